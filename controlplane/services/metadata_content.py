"""The entries of the cluster metadata (format: contracts/metadata_delta.py), built from rows.

`build_content` reads the whole cluster in six queries (a complete copy: compaction checks,
tests, recovery tooling); `change_for` reads only what one transaction marked (a volume, its
bricks and their nodes; a node; a device), so a change costs O(what changed), not O(cluster)."""
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from contracts.metadata_delta import sort_section
from contracts.states import VOLUME_PASSING
from controlplane.models import Brick, Cluster, Device, Node, Snapshot, Volume
from controlplane.services.volume_specs import bricks_of, nodes_of, spec_from


@dataclass
class Marks:
    """What one transaction changed in one cluster."""

    cluster: bool = False
    nodes: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    snapshots: set[str] = field(default_factory=set)


def cluster_entry(cluster: Cluster) -> dict[str, Any]:
    return {"id": cluster.id, "name": cluster.name}


def node_entry(n: Node) -> dict[str, Any]:
    return {"id": n.id, "name": n.name, "address": n.address}


def device_entry(d: Device) -> dict[str, Any]:
    return {"id": d.id, "node_id": d.node_id, "path": d.path, "kind": d.kind, "state": d.state}


def volume_entry(v: Volume, bricks: list[Brick], nodes: dict[str, Node]) -> dict[str, Any]:
    # agents act on the state the bricks should be in: during an expand or an option change, where it returns to
    return {"spec": spec_from(v, bricks, nodes).model_dump(),
            "state": v.resume_state if v.state in VOLUME_PASSING else v.state}


def snapshot_entry(s: Snapshot) -> dict[str, Any]:
    """What a node needs of a snapshot: which of its bricks' copies are where, and with what backend."""
    return {"id": s.id, "name": s.name, "volume_id": s.volume_id, "state": s.state,
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
        for vid in sorted(marks.volumes):
            vol = vols.get(vid)
            if vol is None:
                entries[vid] = None
                continue
            bricks = bricks_of(session, vol)
            entries[vid] = volume_entry(vol, bricks, nodes_of(session, bricks))
        change["volumes"] = entries
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
    return {
        "cluster": cluster_entry(cluster),
        "nodes": sort_section("nodes", [node_entry(n) for n in nodes.values()]),
        "devices": sort_section("devices", [device_entry(d) for d in devices]),
        "volumes": sort_section("volumes", [volume_entry(v, bricks.get(v.id, []), nodes) for v in vols]),
        "snapshots": sort_section("snapshots", [snapshot_entry(s) for s in
                                                session.exec(select(Snapshot).where(col(Snapshot.cluster_id) == cluster.id))]),
    }
