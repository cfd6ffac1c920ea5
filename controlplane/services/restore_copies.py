"""Which node copy a restore rebuilds each cluster from (docs/recovery.md).

Every copy given is checked (contracts/metadata_signing.verify_copy: its format, that the content is
the signed one, that a trusted key signed it); a copy that fails is refused with the reason. Of the
valid copies of one cluster the newest version is chosen; the others are listed as older. Two valid
copies of the same version are the same content (the digest is signed), whichever is taken."""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.metadata_signing import BadCopy, verify_copy

MAX_COPY_BYTES = 256 * 1024 * 1024  # a copy larger than this is not one (the biggest measured: a few MB)


@dataclass
class Chosen:
    cluster_id: str
    cluster_name: str
    version: int
    content: dict[str, Any]
    source: str
    key_id: str = ""  # the signing key's id (contracts/metadata_signing.key_id)
    older: list[tuple[str, int]] = field(default_factory=list)  # (source, version) of the copies not chosen


@dataclass
class Choice:
    clusters: list[Chosen]
    refused: list[tuple[str, str]]  # (source, why)


def read_copy(path: Path) -> Any:
    """The JSON in `path` (a metadata.json, or what `kadalu-agent --export-metadata` printed)."""
    try:
        if path.stat().st_size > MAX_COPY_BYTES:
            raise BadCopy(f"larger than {MAX_COPY_BYTES // (1024 * 1024)} MiB: not a metadata copy")
        return json.loads(path.read_text())
    except OSError as exc:
        raise BadCopy(f"cannot read it: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError):
        raise BadCopy("not JSON: give the agent's metadata.json or what `kadalu-agent --export-metadata` printed") from None


def choose(copies: list[tuple[str, Any]], trusted: list[Ed25519PublicKey]) -> Choice:
    """The newest valid copy of each cluster among `copies` ((source, parsed JSON or a BadCopy))."""
    refused: list[tuple[str, str]] = []
    best: dict[str, Chosen] = {}
    for source, copy in copies:
        if isinstance(copy, BadCopy):
            refused.append((source, str(copy)))
            continue
        try:
            verify_copy(copy, trusted)
        except BadCopy as exc:
            refused.append((source, str(exc)))
            continue
        cluster = copy["content"]["cluster"]
        name = cluster.get("name")
        if not isinstance(name, str):
            refused.append((source, "the copy's cluster has no name"))
            continue
        found = Chosen(cluster["id"], name, copy["version"], copy["content"], source, copy["signature"]["key_id"])
        held = best.get(found.cluster_id)
        if held is None:
            best[found.cluster_id] = found
        elif found.version > held.version:
            found.older = [*held.older, (held.source, held.version)]
            best[found.cluster_id] = found
        else:
            held.older.append((source, found.version))
    return Choice(sorted(best.values(), key=lambda c: c.cluster_name), refused)
