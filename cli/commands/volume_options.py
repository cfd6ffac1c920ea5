"""kadalu volume set / reset / get: volume options (validated by the server)."""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import connect
from cli.commands.volume import DEFAULT_TIMEOUT, Name, Wait, _send_then_follow, app, volume_path
from cli.output import print_json, print_table, warn
from contracts.sizes import spell_size

SIZE_TYPES = ("size", "percent-or-size", "size-list")


def _pairs(values: list[str]) -> dict[str, str]:
    if len(values) % 2:
        raise typer.BadParameter("give options as pairs: NAME VALUE [NAME VALUE ...]")
    return dict(zip(values[::2], values[1::2], strict=True))


def _shown(value: Any, type_: str | None) -> Any:
    """The server stores a size as a byte count (GlusterFS reads "MB" as MiB); the table adds its
    exact spelling in kadalu's units: 268435456 (256MiB), 500000000 (500MB)."""
    if type_ in SIZE_TYPES and isinstance(value, str) and value.isdigit() and spell_size(int(value)) != value:
        return f"{value} ({spell_size(int(value))})"
    return value


@app.command("set")
def set_(
    name: Name,
    pairs: Annotated[list[str], typer.Argument(metavar="OPTION VALUE...", help="Option names and values, in pairs.")],
    cluster: options.Cluster = "default",
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Set options. On a Started volume the bricks and mounts made with `kadalu mount` take them in
    place (no restart; --wait returns when every brick runs them); a change that adds or removes a
    brick translator, or TLS, restarts the bricks one per set at a time. An option that changes
    nothing on this volume (e.g. of a daemon kadalu does not run) is stored with a warning saying why."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/options", {"set": _pairs(pairs)})
        for line in (answer.get("warnings") or []) if isinstance(answer, dict) else []:
            warn(f"{line} (stored anyway)")
        _send_then_follow(client, cluster, name, answer, action="set", wait=wait, timeout=timeout)


@app.command("reset")
def reset(
    name: Name,
    names: Annotated[list[str], typer.Argument(metavar="OPTION...", help="Options back to their defaults.")],
    cluster: options.Cluster = "default",
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Reset options to their defaults."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/options", {"reset": names})
        _send_then_follow(client, cluster, name, answer, action="reset", wait=wait, timeout=timeout)


@app.command("get")
def get(
    name: Name,
    option: Annotated[Optional[str], typer.Argument(metavar="[OPTION]", help="One option (default: all).")] = None,
    cluster: options.Cluster = "default",
    changed: Annotated[bool, typer.Option("--changed", help="Only options changed from their defaults.")] = False,
    json: options.Json = False,
    url: options.Url = None,
) -> None:
    """Show options: value, default, whether changed, and where each applies (brick, client, shd)."""
    params: dict[str, Any] = {"name": option} if option else {}
    with connect(url) as client:
        answer = client.get(f"{volume_path(cluster, name)}/options", **params)
    rows = [r for r in answer["data"] if r["changed"] or not changed]
    if json:
        print_json({"data": rows, "count": len(rows)})
        return
    print_table(
        ["Option", "Value", "Default", "Changed", "Applies to", "Accepts"],
        [[r["name"], _shown(r["value"], r.get("type")), _shown(r["default"], r.get("type")),
          "yes" if r["changed"] else "", ",".join(r["graphs"]), r["accepts"]] for r in rows],
        title="Options",
    )
