"""The entries of the cluster metadata (format: contracts/metadata_delta.py), built from rows.

`build_content` reads the whole cluster in six queries (a complete copy: compaction checks,
tests, recovery tooling); `change_for` reads only what one transaction marked (a volume, its
bricks and their nodes; a node; a device), so a change costs O(what changed), not O(cluster)."""
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from contracts.metadata_delta import sort_section
from contracts.states import VOLUME_PASSING
from controlplane.models import Brick, Cluster, Device, GeoRepSession, Node, QuotaLimit, Snapshot, Volume
from controlplane.services.volume_specs import bricks_of, nodes_of, spec_from


@dataclass
class Marks:
    """What one transaction changed in one cluster."""

    cluster: bool = False
    nodes: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    georep_sessions: set[str] = field(default_factory=set)
    snapshots: set[str] = field(default_factory=set)


def cluster_entry(cluster: Cluster) -> dict[str, Any]:
    return {"id": cluster.id, "name": cluster.name}


def node_entry(n: Node) -> dict[str, Any]:
    # zone and secret_generation: for a restore (the generation keeps the agents' credentials valid)
    return {"id": n.id, "name": n.name, "address": n.address, "zone": n.zone, "secret_generation": n.secret_generation}


def device_entry(d: Device) -> dict[str, Any]:
    return {"id": d.id, "node_id": d.node_id, "path": d.path, "kind": d.kind, "state": d.state}


def limit_entry(q: QuotaLimit) -> dict[str, Any]:
    return {"path": q.path, "hard_bytes": q.hard_bytes, "soft_percent": q.soft_percent, "hard_objects": q.hard_objects}


def volume_entry(v: Volume, bricks: list[Brick], nodes: dict[str, Node],
                 limits: list[QuotaLimit] | None = None) -> dict[str, Any]:
    # agents act on the state the bricks should be in: during an expand or an option change, where it returns to
    out: dict[str, Any] = {"spec": spec_from(v, bricks, nodes).model_dump(),
                           "state": v.resume_state if v.state in VOLUME_PASSING else v.state,
                           # what a restore needs beyond the spec: where provisioned bricks took their space
                           "placement": {b.id: {"device_id": b.device_id, "reserved_bytes": b.reserved_bytes}
                                         for b in bricks if b.device_id},
                           "start_after_create": v.start_after_create}
    if limits:  # quota limits (controlplane/services/quota.py), by path
        out["quota_limits"] = [limit_entry(q) for q in sorted(limits, key=lambda q: q.path)]
    return out


def _limits(session: Session, where) -> dict[str, list[QuotaLimit]]:
    out: dict[str, list[QuotaLimit]] = {}
    for q in session.exec(select(QuotaLimit).where(where)):
        out.setdefault(q.volume_id, []).append(q)
    return out


def georep_entry(g: GeoRepSession) -> dict[str, Any]:
    """What recovery needs to rebuild a geo-replication session (its keys stay on the master nodes)."""
    return {"id": g.id, "master_volume_id": g.master_volume_id, "remote_cluster_id": g.remote_cluster_id,
            "remote_volume_id": g.remote_volume_id, "remote_volume": g.remote_volume, "remote_host": g.remote_host,
            "remote_user": g.remote_user, "ssh_port": g.ssh_port, "state": g.state, "config": dict(g.config)}


def snapshot_entry(s: Snapshot) -> dict[str, Any]:
    """What a node needs of a snapshot: which of its bricks' copies are where, and with what backend."""
    return {"id": s.id, "name": s.name, "volume_id": s.volume_id, "state": s.state, "description": s.description,
            "origin": s.origin,  # the volume as it was when taken: what activate, restore and clone start from (a restore)
            "bricks": [{k: b.get(k, "") for k in ("brick_id", "node_id", "backend", "path")} for b in s.bricks]}


def change_for(session: Session, cluster: Cluster, marks: Marks) -> dict[str, Any]:
    """The entries `marks` names as they are now (null for the ones gone)."""
    change: dict[str, Any] = {}
    if marks.cluster:
        change["cluster"] = cluster_entry(cluster)
    if marks.nodes:
        found = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(sorted(marks.nodes))))}
        change["nodes"] = {i: node_entry(found[i]) if i in found else None for i in sorted(marks.nodes)}
    if marks.devices:
        devs = {d.id: d for d in session.exec(select(Device).where(col(Device.id).in_(sorted(marks.devices))))}
        change["devices"] = {i: device_entry(devs[i]) if i in devs else None for i in sorted(marks.devices)}
    if marks.volumes:
        vols = {v.id: v for v in session.exec(select(Volume).where(col(Volume.id).in_(sorted(marks.volumes))))}
        entries: dict[str, Any] = {}
        limits = _limits(session, col(QuotaLimit.volume_id).in_(sorted(vols)))
        for vid in sorted(marks.volumes):
            vol = vols.get(vid)
            if vol is None:
                entries[vid] = None
                continue
            bricks = bricks_of(session, vol)
            entries[vid] = volume_entry(vol, bricks, nodes_of(session, bricks), limits.get(vid))
        change["volumes"] = entries
    if marks.georep_sessions:
        ids = sorted(marks.georep_sessions)
        geos = {g.id: g for g in session.exec(select(GeoRepSession).where(col(GeoRepSession.id).in_(ids)))}
        change["georep_sessions"] = {i: georep_entry(geos[i]) if i in geos else None for i in ids}
    if marks.snapshots:
        snaps = {s.id: s for s in session.exec(select(Snapshot).where(col(Snapshot.id).in_(sorted(marks.snapshots))))}
        change["snapshots"] = {i: snapshot_entry(snaps[i]) if i in snaps else None for i in sorted(marks.snapshots)}
    return change


def build_content(session: Session, cluster: Cluster) -> dict[str, Any]:
    """The complete copy, from the database (six queries, whatever the cluster's size)."""
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.cluster_id) == cluster.id))}
    devices = session.exec(select(Device).where(col(Device.cluster_id) == cluster.id))
    bricks: dict[str, list[Brick]] = {}
    for b in session.exec(select(Brick).where(col(Brick.cluster_id) == cluster.id).order_by(col(Brick.idx))):
        bricks.setdefault(b.volume_id, []).append(b)
    vols = session.exec(select(Volume).where(col(Volume.cluster_id) == cluster.id))
    limits = _limits(session, col(QuotaLimit.cluster_id) == cluster.id)
    geos = session.exec(select(GeoRepSession).where(col(GeoRepSession.cluster_id) == cluster.id))
    return {
        "cluster": cluster_entry(cluster),
        "nodes": sort_section("nodes", [node_entry(n) for n in nodes.values()]),
        "devices": sort_section("devices", [device_entry(d) for d in devices]),
        "volumes": sort_section("volumes", [volume_entry(v, bricks.get(v.id, []), nodes, limits.get(v.id))
                                          for v in vols]),
        "georep_sessions": sort_section("georep_sessions", [georep_entry(g) for g in geos]),
        "snapshots": sort_section("snapshots", [snapshot_entry(s) for s in
                                                session.exec(select(Snapshot).where(col(Snapshot.cluster_id) == cluster.id))]),
    }
