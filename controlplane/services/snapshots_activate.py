"""Activate and deactivate: an activated snapshot is a volume of its own, named after the snapshot,
with the snapshot's id as its volume id, its bricks the snapshot's copies of the origin's bricks on
their own ports, and features/read-only on. It goes through the ordinary create and start steps
(the copies already carry its volume id, so CREATE_BRICK has nothing to do), mounts like any volume
(`kadalu mount -c C SNAP`) and refuses writes (EROFS). Deactivating stops its bricks and drops that
volume row; the snapshot's copies stay as they are. snapshots_follow.py moves the snapshot as its
volume settles."""
from sqlmodel import Session, col, select

from contracts.snapshot_states import SnapshotState
from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from controlplane.models import Brick, Cluster, Node, Snapshot, Volume
from controlplane.services import volume_plan
from controlplane.services.access import Access
from controlplane.services.errors import Conflict
from controlplane.services.snapshots import change_access, changed, origin_spec
from controlplane.services.snapshots_table import SNAPSHOT
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_ops.steps import step
from controlplane.services.volume_specs import bricks_of

S = SnapshotState
READ_ONLY = {"features.read-only": "on"}


def new_volume(session: Session, cluster: Cluster, *, volume_id: str, name: str, snap: Snapshot,
               paths: dict[str, str], options: dict[str, str], start: bool, port_base: int,
               port_last: int) -> tuple[Volume, list[Brick]]:
    """A Creating volume shaped like the snapshot's origin, its bricks at `paths` (origin brick id ->
    path) on the origin bricks' nodes, with ports of their own."""
    origin = origin_spec(snap)
    if session.exec(select(Volume.id).where(col(Volume.cluster_id) == cluster.id, col(Volume.name) == name)).first():
        raise Conflict(f"volume {name!r} already exists in cluster {cluster.name!r}: pick another name")
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_([b.node_id for b in origin.bricks])))}
    missing = [b for b in origin.bricks if b.node_id not in nodes]
    if missing:
        raise Conflict(f"node {missing[0].node_name} holding brick {missing[0].path} of the snapshot is gone")
    volume_plan.lock_nodes(session, set(nodes))
    placed = [volume_plan.Placed(nodes[b.node_id], paths[b.id], "") for b in origin.bricks]
    ports = volume_plan.allocate_ports(session, placed, port_base, port_last)
    vol = Volume(id=volume_id, cluster_id=cluster.id, name=name, type=origin.type, replica_count=origin.replica_count,
                 arbiter_count=origin.arbiter_count, disperse_count=origin.disperse_count,
                 redundancy_count=origin.redundancy_count, state=VolumeState.CREATING, start_after_create=start,
                 options=options)
    session.add(vol)
    session.flush()
    bricks = [Brick(volume_id=vol.id, cluster_id=cluster.id, node_id=p.node.id, idx=i, path=p.path, port=port)  # no device:
              # the copies take no room of their own to reserve
              for i, (p, port) in enumerate(zip(placed, ports, strict=True))]
    session.add_all(bricks)
    session.flush()
    return vol, bricks


def activate(session: Session, *, access: Access, cluster: Cluster, snap: Snapshot, port_base: int,
             port_last: int) -> Snapshot:
    change_access(session, access, snap, "activate")
    SNAPSHOT.check(snap, S.ACTIVATING)
    paths = {b["brick_id"]: b["path"] for b in snap.bricks}
    options = {**{k: v for k, v in origin_spec(snap).options.items() if k != "features.read-only"}, **READ_ONLY}
    if session.get(Volume, snap.id) is not None:
        raise Conflict(f"snapshot {snap.name!r} still has a volume from an earlier activation: deactivate it first")
    vol, bricks = new_volume(session, cluster, volume_id=snap.id, name=snap.name, snap=snap, paths=paths,
                             options=options, start=True, port_base=port_base, port_last=port_last)
    SNAPSHOT.move(snap, S.ACTIVATING, "")
    session.add(snap)
    changed(session, snap)
    step(session, vol, bricks, TaskKind.CREATE_BRICK)
    session.commit()
    return snap


def deactivate(session: Session, *, access: Access, snap: Snapshot) -> Snapshot:
    change_access(session, access, snap, "deactivate")
    SNAPSHOT.check(snap, S.DEACTIVATING)
    vol = session.get(Volume, snap.id)
    SNAPSHOT.move(snap, S.DEACTIVATING, "")
    session.add(snap)
    changed(session, snap)
    if vol is None:  # nothing runs
        SNAPSHOT.move(snap, S.DEACTIVATED)
    else:
        VOLUME.move(vol, VolumeState.STOPPING)
        step(session, vol, bricks_of(session, vol), TaskKind.STOP_BRICK)
    session.commit()
    return snap
