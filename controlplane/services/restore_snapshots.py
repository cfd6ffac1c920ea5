"""Snapshots from a node's metadata copy (section "snapshots", format in contracts/metadata_delta.py):
which backend copy of each brick is where, and the origin volume as it was when taken (what activate,
restore and clone start from). Values are checked as any input crossing a process boundary;
schedules are not in the copies (set them again after a restore, docs/recovery.md)."""
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from contracts import checks
from contracts.snapshot_states import BACKENDS, SNAPSHOT_IN_PROGRESS, SnapshotState
from contracts.volume_spec import VolumeSpec
from controlplane.models import Cluster, Snapshot


def _brick(snap: str, b: Any, nodes: set[str]) -> dict[str, Any]:
    if not isinstance(b, dict):
        raise ValueError(f"snapshot {snap!r}: a brick entry must be an object")
    node_id = checks.check_uuid(str(b.get("node_id")), "node id")
    if node_id not in nodes:
        raise ValueError(f"snapshot {snap!r}: a brick is on a node the copy does not hold")
    backend = b.get("backend", "")
    if backend not in ("", *BACKENDS):
        raise ValueError(f"snapshot {snap!r}: backend {str(backend)[:40]!r} is not one of {', '.join(BACKENDS)}")
    path = checks.check_path(b["path"], "snapshot brick path") if b.get("path") else ""
    return {"brick_id": checks.check_uuid(str(b.get("brick_id")), "brick id"), "node_id": node_id, "backend": backend,
            "path": path, "taken": bool(path)}


def _snapshot(cluster: Cluster, e: dict[str, Any], nodes: set[str], volumes: set[str]) -> Snapshot:
    name = checks.check_name(e["name"], "snapshot name")
    state = SnapshotState(e["state"])
    volume_id = str(e.get("volume_id"))
    if volume_id not in volumes:
        raise ValueError(f"snapshot {name!r}: its volume is not in the copy")
    origin = e.get("origin") or {}
    if origin:
        try:
            VolumeSpec.model_validate(origin)
        except ValidationError as exc:
            raise ValueError(f"snapshot {name!r}: origin {exc.errors()[0].get('msg')}") from None
    bricks = e.get("bricks") or []
    if not isinstance(bricks, list):
        raise ValueError(f"snapshot {name!r}: bricks must be a list")
    # a request in flight when the copy was taken has no tasks here: Failed, and says so
    reason = f"restored from a node's metadata copy taken while {state}: check it and run the request again" \
        if state in SNAPSHOT_IN_PROGRESS else ""
    return Snapshot(id=checks.check_uuid(e["id"], "snapshot id"), cluster_id=cluster.id, volume_id=volume_id, name=name,
                    description=str(e.get("description", ""))[:1024], origin=origin,
                    state=SnapshotState.FAILED if reason else state, reason=reason,
                    bricks=[_brick(name, b, nodes) for b in bricks])


def restore_snapshots(session: Session, cluster: Cluster, entries: list[dict[str, Any]], nodes: set[str],
                      volumes: set[str]) -> int:
    rows = [_snapshot(cluster, e, nodes, volumes) for e in entries]
    session.add_all(rows)
    return len(rows)
