"""Taking a consistent snapshot of a whole volume, in steps (Snapshot.step):

  probe        every brick's node says which backend can snapshot it (btrfs subvolume, LVM thin);
               one that cannot fails the snapshot before anything is touched, naming the brick and why
  barrier-on   the barrier at every brick: replies of unlink, rename, fsync, O_SYNC writes... are held
  take         each node snapshots its bricks' file systems
  barrier-off  the barrier off everywhere: Created
  cleanup      after a failure at barrier-on or take (or a take that outlived the barrier timeout):
               the barrier off everywhere and the snapshots taken so far removed: Failed, with the reason

The volume stays mounted and usable throughout: the barrier only delays some replies."""
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from contracts.snapshot_states import SnapshotState
from contracts.states import VolumeState
from contracts.task_kinds import Phase, TaskKind
from controlplane.db import utcnow
from controlplane.models import Cluster, Snapshot, Task, Volume
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict, Invalid
from controlplane.services.names import check_name
from controlplane.services.snapshots import failed_reasons, origin_spec, step
from controlplane.services.snapshots_table import SNAPSHOT
from controlplane.services.volume_specs import refs, spec

S = SnapshotState
DEFAULT_BARRIER_TIMEOUT = 120.0


def barrier_timeout(snap: Snapshot) -> float:
    text = str(snap.origin.get("options", {}).get("features.barrier-timeout", DEFAULT_BARRIER_TIMEOUT))
    try:
        return float(text)
    except ValueError:
        return DEFAULT_BARRIER_TIMEOUT


def check_free_name(session: Session, cluster: Cluster, name: str) -> None:
    """Snapshot names are unique in the cluster, and shared with volumes: an activated snapshot
    mounts under its own name."""
    check_name("snapshot", name)
    if session.exec(select(Snapshot.id).where(col(Snapshot.cluster_id) == cluster.id, col(Snapshot.name) == name)).first():
        raise Conflict(f"snapshot {name!r} already exists in cluster {cluster.name!r}: pick another name")
    if session.exec(select(Volume.id).where(col(Volume.cluster_id) == cluster.id, col(Volume.name) == name)).first():
        raise Conflict(f"{name!r} is the name of a volume in cluster {cluster.name!r}; an activated snapshot mounts "
                       "under its own name: pick another name")


def begin(session: Session, cluster: Cluster, volume: Volume, name: str, description: str = "",
          schedule_id: str | None = None) -> Snapshot:
    """The Creating row and the probe step (sent after the caller commits); no access check here."""
    check_free_name(session, cluster, name)
    if len(description) > 1024:
        raise Invalid("the description is longer than 1024 characters: shorten it")
    if volume.state != VolumeState.STARTED:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: a snapshot is taken of a Started volume (its bricks "
                       "hold the barrier); start it first (`kadalu volume start`)")
    busy = session.exec(select(Snapshot.name).where(col(Snapshot.volume_id) == volume.id,
                                                    col(Snapshot.state).in_([S.CREATING, S.RESTORING]))).first()
    if busy:
        raise Conflict(f"snapshot {busy!r} of volume {volume.name!r} is being taken or restored: wait for it, then retry")
    vspec = spec(session, volume)
    origin = vspec.model_dump()
    snap = Snapshot(id=str(uuid.uuid4()), cluster_id=cluster.id, volume_id=volume.id, name=name, description=description,
                    state=S.CREATING, step="probe", origin=origin, schedule_id=schedule_id,
                    bricks=[{"brick_id": b.id, "node_id": b.node_id, "backend": "", "path": "", "taken": False}
                            for b in vspec.bricks])
    session.add(snap)
    session.flush()
    step(session, snap, TaskKind.SNAPSHOT_PROBE, [b.id for b in vspec.bricks], vspec)
    return snap


def create(session: Session, *, access: Access, cluster: Cluster, volume: Volume, name: str,
           description: str = "") -> Snapshot:
    access.require(WRITE, cluster.id, f"snapshot volume {volume.name!r}", refs(volume))
    snap = begin(session, cluster, volume, name, description)
    session.commit()
    return snap


def _all_ids(snap: Snapshot) -> list[str]:
    return [b["brick_id"] for b in snap.bricks]


def _fail(session: Session, snap: Snapshot, reason: str, remove: bool) -> None:
    """Barrier off on every brick and, after a take, remove the backend snapshots on every brick
    (a take that failed half-way may have left one; a remove of none is done), in one step; Failed
    when it is over."""
    snap.reason = reason[:8192]
    snap.step = "cleanup"
    step(session, snap, TaskKind.SNAPSHOT_BARRIER, _all_ids(snap), enable=False)
    if remove:
        step(session, snap, TaskKind.SNAPSHOT_REMOVE, _all_ids(snap), same_operation=True)
    session.add(snap)


def _record(snap: Snapshot, step_tasks: list[Task], field: str, key: str) -> None:
    got = {str(t.spec.get("brick_id")): (t.result or {}).get(key) for t in step_tasks
           if t.phase == Phase.DONE.value and t.kind != TaskKind.SNAPSHOT_BARRIER}
    bricks = []
    for b in snap.bricks:
        b = dict(b)
        if got.get(b["brick_id"]):
            b[field] = str(got[b["brick_id"]])
            if field == "path":
                b["taken"] = True
        bricks.append(b)
    snap.bricks = bricks


def settle(session: Session, snap: Snapshot, step_tasks: list[Task]) -> None:
    """The step of a Creating snapshot is over: take the next one."""
    vspec = origin_spec(snap)
    bad = failed_reasons(session, step_tasks, vspec)
    if snap.step == "probe":
        if bad:
            SNAPSHOT.move(snap, S.FAILED, f"cannot snapshot volume {vspec.name!r}: {bad}")
            snap.step = ""
            return
        _record(snap, step_tasks, "backend", "backend")
        snap.step = "barrier-on"
        snap.barrier_since = utcnow()
        step(session, snap, TaskKind.SNAPSHOT_BARRIER, _all_ids(snap), enable=True)
    elif snap.step == "barrier-on":
        if bad:
            _fail(session, snap, f"the barrier could not be set: {bad}", remove=False)
            return
        snap.step = "take"
        step(session, snap, TaskKind.SNAPSHOT_TAKE, _all_ids(snap))
    elif snap.step == "take":
        _record(snap, step_tasks, "path", "path")
        since = snap.barrier_since
        late = since is not None and utcnow() - since > timedelta(seconds=barrier_timeout(snap))
        if bad or late:
            why = bad or (f"the backend snapshots took longer than the barrier timeout ({barrier_timeout(snap):g} s): "
                          "they may not be consistent")
            _fail(session, snap, f"the snapshot could not be taken: {why}", remove=True)
            return
        snap.step = "barrier-off"
        step(session, snap, TaskKind.SNAPSHOT_BARRIER, _all_ids(snap), enable=False)
    elif snap.step == "barrier-off":
        snap.step = ""
        SNAPSHOT.move(snap, S.CREATED, f"the barrier could not be turned off (it lapses after its timeout): {bad}"
                      if bad else "")
    elif snap.step == "cleanup":
        _record_removed(snap, step_tasks)
        snap.step = ""
        left = f"; cleaning up failed too, left behind: {bad}" if bad else ""
        SNAPSHOT.move(snap, S.FAILED, snap.reason + left)
    session.add(snap)


def _record_removed(snap: Snapshot, step_tasks: list[Task]) -> None:
    removed = {str(t.spec.get("brick_id")) for t in step_tasks
               if t.kind == TaskKind.SNAPSHOT_REMOVE and t.phase == Phase.DONE.value}
    snap.bricks = [{**b, "taken": b["taken"] and b["brick_id"] not in removed} for b in snap.bricks]
