"""Rows from the sections of a node's metadata copy (format: contracts/metadata_delta.py), one
restorer per section, in dependency order. A feature that adds a section to the metadata (geo-
replication sessions, quota limits, snapshots) adds its restorer to RESTORERS; a copy holding a
section this control plane has no restorer for is refused, never half restored.

The copy is signed, but its values are still checked as any input crossing a process boundary:
names, addresses, paths and volume specs by the same rules the API applies."""
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from contracts.checks import check_address, check_name, check_path, check_uuid
from contracts.quota import MAX_BYTES, quota_path_problem
from contracts.states import BrickState, DeviceState, NodeState, VolumeState
from contracts.volume_spec import VolumeSpec
from controlplane.models import Brick, Cluster, Device, Node, QuotaLimit, Volume
from controlplane.services import restore_georep, restore_snapshots


class BadSection(ValueError):
    """An entry a restore cannot take: says which and why."""


# A request in flight when the copy was taken has no tasks in the restored database: its volume is
# restored as that request having failed, with a reason, so the operator retries it.
INTERRUPTED = {VolumeState.CREATING: VolumeState.CREATE_FAILED, VolumeState.STARTING: VolumeState.START_FAILED,
               VolumeState.STOPPING: VolumeState.STOP_FAILED, VolumeState.DELETING: VolumeState.DELETE_FAILED}
BRICK_STATE = {VolumeState.CREATED: BrickState.CREATED, VolumeState.CREATE_FAILED: BrickState.FAILED,
               VolumeState.STOPPED: BrickState.STOPPED, VolumeState.STOP_FAILED: BrickState.STOPPED,
               VolumeState.DELETE_FAILED: BrickState.STOPPED}  # others: Started


def _entries(content: dict[str, Any], section: str) -> list[dict[str, Any]]:
    entries = content.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadSection(f"section {section!r} must be a list of objects")
    return entries


def _check(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadSection(f"{what}: {exc}") from None


def _node(cluster: Cluster, e: dict[str, Any]) -> Node:
    return Node(id=check_uuid(e["id"], "node id"), cluster_id=cluster.id, name=check_name(e["name"], "node name"),
                address=check_address(e["address"]), zone=check_name(e["zone"], "zone") if e.get("zone") else "",
                secret_generation=int(e.get("secret_generation", 1)), state=NodeState.UNREACHABLE)


def _device(cluster: Cluster, e: dict[str, Any]) -> Device:
    return Device(id=check_uuid(e["id"], "device id"), cluster_id=cluster.id, node_id=check_uuid(e["node_id"], "node id"),
                  path=check_path(e["path"], "device path"), kind=str(e["kind"]), state=DeviceState(e["state"]))


def restore_nodes(session: Session, cluster: Cluster, content: dict[str, Any], seen: dict[str, set[str]]) -> int:
    for e in _entries(content, "nodes"):
        node: Node = _check("a node entry", _node, cluster, e)
        if node.secret_generation < 1:
            raise BadSection(f"node {node.name!r}: secret_generation must be positive")
        session.add(node)
        seen["nodes"].add(node.id)
    return len(seen["nodes"])


def restore_devices(session: Session, cluster: Cluster, content: dict[str, Any], seen: dict[str, set[str]]) -> int:
    for e in _entries(content, "devices"):
        dev: Device = _check("a device entry", _device, cluster, e)
        if dev.node_id not in seen["nodes"] or dev.kind not in ("directory", "block"):
            raise BadSection(f"device {dev.path!r}: its node is not in the copy, or its kind {dev.kind!r} is unknown")
        session.add(dev)
        seen["devices"].add(dev.id)
    return len(seen["devices"])


def _count(volume: str, e: dict[str, Any], key: str, top: int) -> int | None:
    value = e.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise BadSection(f"volume {volume!r}: quota limit {key} must be a whole number from 1 to {top}")
    return value


def _quota_limits(spec: VolumeSpec, cluster: Cluster, e: dict[str, Any]) -> list[QuotaLimit]:
    """A volume's quota limits, as applied on its nodes (the copy is written once they are)."""
    entries = e.get("quota_limits") or []
    if not isinstance(entries, list) or not all(isinstance(q, dict) for q in entries):
        raise BadSection(f"volume {spec.name!r}: quota_limits must be a list of objects")
    out = []
    for q in entries:
        path = q.get("path")
        problem = quota_path_problem(path) if isinstance(path, str) else "must be a string"
        if problem:
            raise BadSection(f"volume {spec.name!r}: quota limit path {str(path)[:120]!r} {problem}")
        hard, objects = _count(spec.name, q, "hard_bytes", MAX_BYTES), _count(spec.name, q, "hard_objects", 1 << 62)
        soft = _count(spec.name, q, "soft_percent", 100)
        if hard is None and objects is None:
            raise BadSection(f"volume {spec.name!r}: quota limit on {path!r} has neither hard_bytes nor hard_objects")
        out.append(QuotaLimit(volume_id=spec.id, cluster_id=cluster.id, path=path, hard_bytes=hard, soft_percent=soft,
                              hard_objects=objects, state="applied"))
    return out


def restore_volumes(session: Session, cluster: Cluster, content: dict[str, Any], seen: dict[str, set[str]]) -> int:
    reserved: dict[str, int] = {}
    bricks: list[Brick] = []  # added once the volumes are written (no ORM relationship orders the inserts)
    limits: list[QuotaLimit] = []
    for e in _entries(content, "volumes"):
        try:
            spec = VolumeSpec.model_validate(e.get("spec"))
        except ValidationError as exc:
            raise BadSection(f"a volume entry: {exc.errors()[0].get('msg')} at {exc.errors()[0].get('loc')}") from None
        state = _check(f"volume {spec.name!r}: state", VolumeState, e.get("state"))
        placement = e.get("placement") or {}
        if not isinstance(placement, dict):
            raise BadSection(f"volume {spec.name!r}: placement must map brick ids to devices")
        restored = INTERRUPTED.get(state, state)
        reason = "" if restored == state else (f"restored from a node's metadata copy taken while {state}: "
                                               "the request did not finish; run it again")
        session.add(Volume(id=spec.id, cluster_id=cluster.id, name=spec.name, type=spec.type,
                           replica_count=spec.replica_count, arbiter_count=spec.arbiter_count,
                           disperse_count=spec.disperse_count, redundancy_count=spec.redundancy_count, state=restored,
                           reason=reason, options=dict(spec.options), auth_username=spec.auth_username,
                           auth_password=spec.auth_password, start_after_create=bool(e.get("start_after_create", True))))
        for idx, b in enumerate(spec.bricks):
            if b.node_id not in seen["nodes"]:
                raise BadSection(f"volume {spec.name!r}: brick {b.path!r} is on a node the copy does not hold")
            where = placement.get(b.id) or {}
            device_id = where.get("device_id") if isinstance(where, dict) else None
            amount = int(where.get("reserved_bytes") or 0) if device_id else 0
            if device_id is not None and (device_id not in seen["devices"] or amount < 0):
                raise BadSection(f"volume {spec.name!r}: brick {b.path!r} names a device the copy does not hold")
            bricks.append(Brick(id=b.id, volume_id=spec.id, cluster_id=cluster.id, node_id=b.node_id, idx=idx, path=b.path,
                              port=b.port, state=BRICK_STATE.get(restored, BrickState.STARTED), device_id=device_id,
                              reserved_bytes=amount))
            if device_id:
                reserved[device_id] = reserved.get(device_id, 0) + amount
        limits.extend(_quota_limits(spec, cluster, e))
        seen["volumes"].add(spec.id)
    session.flush()
    session.add_all(bricks)
    session.add_all(limits)
    session.flush()
    for device_id, amount in reserved.items():
        dev = session.get(Device, device_id)
        assert dev is not None  # added above
        dev.reserved_bytes = amount
    return len(seen["volumes"])


def restore_georep_sessions(session: Session, cluster: Cluster, content: dict[str, Any], seen: dict[str, set[str]]) -> int:
    return _check("a geo-replication session", restore_georep.restore_sessions, session, cluster,
                  _entries(content, "georep_sessions"), seen["volumes"])


def restore_snapshot_section(session: Session, cluster: Cluster, content: dict[str, Any], seen: dict[str, set[str]]) -> int:
    return _check("a snapshot", restore_snapshots.restore_snapshots, session, cluster, _entries(content, "snapshots"),
                  seen["nodes"], seen["volumes"])


Restorer = Callable[[Session, Cluster, dict[str, Any], dict[str, set[str]]], int]
# In dependency order. Add a section's restorer here with the section (contracts/metadata_delta.SECTIONS).
RESTORERS: dict[str, Restorer] = {"nodes": restore_nodes, "devices": restore_devices, "volumes": restore_volumes,
                                   "georep_sessions": restore_georep_sessions, "snapshots": restore_snapshot_section}


def restore_all(session: Session, cluster: Cluster, content: dict[str, Any]) -> dict[str, int]:
    """Every section of `content` into `cluster` (flushed, not committed); how many entries of each."""
    unknown = sorted(set(content) - {"cluster"} - set(RESTORERS))
    if unknown:
        raise BadSection(f"the copy holds section(s) {', '.join(unknown)} that this control plane cannot restore: "
                         "restore with the kadalu-server version the cluster ran")
    seen: dict[str, set[str]] = {name: set() for name in RESTORERS}
    counts = {}
    for name, restorer in RESTORERS.items():
        counts[name] = restorer(session, cluster, content, seen)
        session.flush()
    return counts
