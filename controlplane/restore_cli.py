"""`kadalu-server restore` and `kadalu-server metadata-key` (docs/recovery.md)."""
import json
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from contracts.metadata_signing import BadCopy, key_id, parse_public_key
from controlplane import metadata_keys
from controlplane.db import make_engine
from controlplane.migrate import upgrade
from controlplane.services import restore as restore_service
from controlplane.services import restore_copies
from controlplane.services.restore_sections import BadSection
from controlplane.settings import Settings


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"kadalu-server restore: {message}", err=True)
    raise typer.Exit(code)


def metadata_key(settings: Settings, as_json: bool) -> None:
    text = metadata_keys.public_text(settings.effective_secret_key)
    if as_json:
        typer.echo(json.dumps({"public_key": text, "key_id": key_id(metadata_keys.public_key(settings.effective_secret_key))}))
    else:
        typer.echo(text)


def _trusted(settings: Settings, trust_keys: list[str]) -> list:
    keys = []
    for given in trust_keys:
        text = Path(given).read_text().strip() if Path(given).is_file() else given
        try:
            keys.append(parse_public_key(text))
        except BadCopy as exc:
            _fail(f"--trust-key {given[:40]!r}: {exc}")
    if not keys:  # the server key this control plane runs with: the copies it signed before
        keys.append(metadata_keys.public_key(settings.effective_secret_key))
    return keys


def restore(settings: Settings, files: list[Path], trust_keys: list[str], force: bool, rejoin_minutes: int,
            as_json: bool) -> None:
    if not files:
        _fail("give the agents' copies: --from-file metadata.json (repeat it; `kadalu-agent --export-metadata` "
              "prints a node's copy)")
    trusted = _trusted(settings, trust_keys)
    copies: list[tuple[str, Any]] = []
    for path in files:
        try:
            copies.append((str(path), restore_copies.read_copy(path)))
        except BadCopy as exc:
            copies.append((str(path), exc))
    choice = restore_copies.choose(copies, trusted)
    for source, why in choice.refused:
        typer.echo(f"refused {source}: {why}", err=True)
    if not choice.clusters:
        _fail("no valid signed copy among the files given: nothing restored")
    own = key_id(metadata_keys.public_key(settings.effective_secret_key))
    signed_here = all(c.key_id == own for c in choice.clusters)
    upgrade(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            done = restore_service.restore(session, choice.clusters, force=force, rejoin_minutes=rejoin_minutes)
    except restore_service.NotEmpty as exc:
        _fail(str(exc))
    except BadSection as exc:
        _fail(f"nothing restored: {exc}")
    finally:
        engine.dispose()
    older = {c.cluster_id: [{"from": s, "version": v} for s, v in c.older] for c in choice.clusters}
    report: list[dict[str, Any]] = [
        {"cluster": r.cluster_name, "cluster_id": r.cluster_id, "version": r.version, "from": r.source,
         "join_token": r.join_token, **r.counts, "older": older[r.cluster_id]} for r in done]
    if as_json:
        typer.echo(json.dumps({"restored": report, "refused": [{"from": s, "why": w} for s, w in choice.refused],
                               "same_server_key": signed_here}))
        return
    for r in report:
        typer.echo(f"restored cluster {r['cluster']} at metadata version {r['version']} from {r['from']}: "
                   f"{r['nodes']} node(s), {r['devices']} device(s), {r['volumes']} volume(s)")
        for older in r["older"]:
            typer.echo(f"  not chosen (older): {older['from']} at version {older['version']}")
        typer.echo(f"  new join token (shown once): {r['join_token']}")
    if not signed_here:
        typer.echo("warning: the copies were signed with another server key than this control plane's: agents' "
                   "credentials will not verify here. Restart each agent with the new join token"
                   + ("" if rejoin_minutes else " after restoring with --allow-rejoin MINUTES") + " (docs/recovery.md)",
                   err=True)
