"""Restore (roll a stopped volume's bricks back to a snapshot), clone (a new writable volume from a
snapshot) and delete (remove the backend snapshots, then the row)."""
import uuid

from sqlmodel import Session, col, select

from contracts.snapshot_specs import SnapshotTaskSpec, clone_brick_path
from contracts.snapshot_states import SNAPSHOT_USABLE, SnapshotState
from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from controlplane.models import Cluster, Node, Snapshot, Task, Volume
from controlplane.services import metadata, tasks
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.names import check_name
from controlplane.services.snapshots import change_access, changed, failed_reasons, origin_spec, step
from controlplane.services.snapshots_activate import READ_ONLY, new_volume
from controlplane.services.snapshots_table import SNAPSHOT
from controlplane.services.volume_ops.steps import failed, reasons, settle_to
from controlplane.services.volume_ops.steps import step as volume_step
from controlplane.services.volume_specs import bricks_of, spec

S, V = SnapshotState, VolumeState


def restore(session: Session, *, access: Access, snap: Snapshot) -> Snapshot:
    vol = change_access(session, access, snap, "restore")
    SNAPSHOT.check(snap, S.RESTORING)
    if vol.state not in (V.STOPPED, V.CREATED):
        raise Conflict(f"volume {vol.name!r} is {vol.state}: a snapshot is restored onto a stopped volume; stop it "
                       f"first (`kadalu volume stop -c ... {vol.name}`)")
    current = spec(session, vol)
    if sorted(b.id for b in current.bricks) != sorted(b["brick_id"] for b in snap.bricks):
        raise Conflict(f"the bricks of volume {vol.name!r} changed since snapshot {snap.name!r} was taken (expanded or "
                       "replaced): it cannot be restored onto them; clone it instead (`kadalu snapshot clone`)")
    snap.step = snap.state
    SNAPSHOT.move(snap, S.RESTORING, "")
    step(session, snap, TaskKind.SNAPSHOT_RESTORE, [b.id for b in current.bricks], current)
    session.commit()
    return snap


def settle_restore(session: Session, snap: Snapshot, step_tasks: list[Task]) -> None:
    bad = failed_reasons(session, step_tasks, origin_spec(snap))
    back, snap.step = snap.step or S.CREATED, ""
    SNAPSHOT.move(snap, back, f"restore failed: {bad}; bricks may be partly rolled back: restore again before starting "
                              "the volume" if bad else "")
    session.add(snap)


def clone(session: Session, *, access: Access, cluster: Cluster, snap: Snapshot, name: str, port_base: int,
          port_last: int) -> Volume:
    """A Creating volume `name` whose bricks are writable copies of the snapshot's (SNAPSHOT_CLONE on
    each), then created (not started) as any volume."""
    change_access(session, access, snap, "clone")
    access.require(WRITE, cluster.id, f"create volume {name!r} in cluster {cluster.name!r}")
    check_name("volume", name)
    if snap.state not in SNAPSHOT_USABLE:
        raise Conflict(f"snapshot {snap.name!r} is {snap.state}: clone a Created, Activated or Deactivated snapshot")
    if session.exec(select(Snapshot.id).where(col(Snapshot.cluster_id) == cluster.id, col(Snapshot.name) == name)).first():
        raise Conflict(f"{name!r} is the name of a snapshot in cluster {cluster.name!r}: pick another name")
    new_id = str(uuid.uuid4())
    paths = {b["brick_id"]: clone_brick_path(b["path"], snap.id, new_id) for b in snap.bricks}
    options = {k: v for k, v in origin_spec(snap).options.items() if k not in READ_ONLY}
    vol, _ = new_volume(session, cluster, volume_id=new_id, name=name, snap=snap, paths=paths, options=options,
                        start=False, port_base=port_base, port_last=port_last)
    vol.operation_id = str(uuid.uuid4())
    session.add(vol)
    origin = origin_spec(snap)
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_([b.node_id for b in origin.bricks])))}
    backends = {b["brick_id"]: b["backend"] for b in snap.bricks}
    for b in origin.bricks:
        body = SnapshotTaskSpec(volume=origin, brick_id=b.id, snapshot_id=snap.id, backend=backends[b.id],
                                clone_volume_id=new_id).model_dump()
        tasks.new_task(session, nodes[b.node_id], TaskKind.SNAPSHOT_CLONE, body, volume_id=vol.id,
                       operation_id=vol.operation_id)
    metadata.changed(session, cluster.id, volume_id=vol.id)
    session.commit()
    return vol


def clone_finished(session: Session, task: Task) -> None:
    """The clone's copies are made: create its bricks (CREATE_BRICK finds them marked); or CreateFailed."""
    vol = session.exec(select(Volume).where(col(Volume.id) == task.volume_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if vol is None or vol.operation_id != task.operation_id or vol.state != V.CREATING:
        return
    step_tasks = list(session.exec(select(Task).where(col(Task.operation_id) == task.operation_id)))
    if any(t.phase in tasks.ACTIVE for t in step_tasks):
        return
    bad = failed(step_tasks)
    if bad:
        settle_to(session, vol, V.CREATE_FAILED, "cloning failed: " + reasons(session, bad))
        return
    volume_step(session, vol, bricks_of(session, vol), TaskKind.CREATE_BRICK)


def delete(session: Session, *, access: Access, snap: Snapshot) -> Snapshot:
    change_access(session, access, snap, "delete")
    begin_delete(session, snap)
    session.commit()
    return snap


def begin_delete(session: Session, snap: Snapshot) -> None:
    """Deleting, and a SNAPSHOT_REMOVE on every brick that has a backend snapshot (sent after the
    caller commits); no access check here (schedules prune with it)."""
    SNAPSHOT.check(snap, S.DELETING)
    taken = [b["brick_id"] for b in snap.bricks if b.get("backend")]
    snap.step = snap.state
    SNAPSHOT.move(snap, S.DELETING, "")
    changed(session, snap)
    if taken:
        step(session, snap, TaskKind.SNAPSHOT_REMOVE, taken)
    else:  # refused by the probe: nothing was ever taken
        _gone(session, snap)


def _gone(session: Session, snap: Snapshot) -> None:
    SNAPSHOT.move(snap, S.DELETED)
    changed(session, snap)
    session.delete(snap)


def settle_delete(session: Session, snap: Snapshot, step_tasks: list[Task]) -> None:
    bad = failed_reasons(session, step_tasks, origin_spec(snap))
    if bad:
        back, snap.step = snap.step or S.DEACTIVATED, ""
        SNAPSHOT.move(snap, back, f"delete failed: {bad}")
        session.add(snap)
        return
    _gone(session, snap)
