"""What a finished snapshot task changes: the step it belongs to settles when its last task is in."""
from sqlmodel import Session, col, select

from contracts.snapshot_states import SnapshotState
from contracts.task_kinds import TaskKind
from controlplane.models import Snapshot, Task
from controlplane.services import tasks
from controlplane.services.snapshots import changed
from controlplane.services.snapshots_create import settle as settle_create
from controlplane.services.snapshots_restore import clone_finished, settle_delete, settle_restore

S = SnapshotState
KINDS = frozenset({TaskKind.SNAPSHOT_PROBE, TaskKind.SNAPSHOT_BARRIER, TaskKind.SNAPSHOT_TAKE, TaskKind.SNAPSHOT_REMOVE,
                   TaskKind.SNAPSHOT_RESTORE, TaskKind.SNAPSHOT_CLONE})
_SETTLE = {S.CREATING: settle_create, S.RESTORING: settle_restore, S.DELETING: settle_delete}


def task_finished(session: Session, task: Task, data: dict) -> None:
    if task.kind == TaskKind.SNAPSHOT_CLONE:
        clone_finished(session, task)
        return
    # Locked before the step's tasks are counted: two results applied at once by two workers must not
    # both see the other's task unfinished (as for volumes, volume_ops/registry.py).
    snap = session.exec(select(Snapshot).where(col(Snapshot.id) == str(task.spec.get("snapshot_id"))).with_for_update()
                        .execution_options(populate_existing=True)).first()
    if snap is None or snap.operation_id != task.operation_id:
        return  # a task of an earlier step
    step_tasks = list(session.exec(select(Task).where(col(Task.operation_id) == task.operation_id)))
    if any(t.phase in tasks.ACTIVE for t in step_tasks):
        return
    settle = _SETTLE.get(S(snap.state))
    if settle is not None:
        settle(session, snap, step_tasks)
        changed(session, snap)
