"""The one place that knows every volume operation: the result reconciler finds the volume's
operation by the state it runs in, applies each brick task's outcome to its brick, and, when the
step's last task is in, lets the operation take its next step."""
from sqlmodel import Session, col, select

from contracts.states import BrickState, VolumeState
from contracts.task_kinds import TERMINAL_PHASES, Phase, TaskKind
from controlplane.db import utcnow
from controlplane.models import Brick, Task, Volume
from controlplane.services.snapshots_follow import follow as snapshot_follows
from controlplane.services.transitions import BRICK
from controlplane.services.volume_ops.create import CREATE
from controlplane.services.volume_ops.expand import ABORT, EXPAND
from controlplane.services.volume_ops.lifecycle import DELETE, START, STOP
from controlplane.services.volume_ops.reconfigure import RECONFIGURE
from controlplane.services.volume_ops.steps import Operation

OPERATIONS: dict[VolumeState, Operation] = {op.state: op for op in (CREATE, START, STOP, DELETE, EXPAND, ABORT,
                                                                    RECONFIGURE)}
BRICK_KINDS = frozenset({TaskKind.CREATE_BRICK, TaskKind.START_BRICK, TaskKind.STOP_BRICK, TaskKind.DELETE_BRICK,
                         TaskKind.RESTART_BRICK, TaskKind.RECONFIGURE_BRICK})
_DONE_WORD = {TaskKind.CREATE_BRICK: BrickState.CREATED, TaskKind.START_BRICK: BrickState.STARTED,
              TaskKind.RESTART_BRICK: BrickState.STARTED, TaskKind.RECONFIGURE_BRICK: BrickState.STARTED,
              TaskKind.STOP_BRICK: BrickState.STOPPED,
              TaskKind.DELETE_BRICK: BrickState.DELETED}


def brick_task_finished(session: Session, task: Task, data: dict) -> None:
    """Apply one brick task's outcome; when it was the last of its step, settle the step."""
    brick = session.get(Brick, task.spec.get("brick_id"))
    if brick is not None:
        ok = task.phase == Phase.DONE.value
        to = _DONE_WORD[TaskKind(task.kind)] if ok else BrickState.FAILED
        # a brick that could not take a change in place still runs its old graph: not a failed brick
        live_failure = not ok and task.kind == TaskKind.RECONFIGURE_BRICK
        if BRICK.can(brick.state, to) and not live_failure:
            BRICK.move(brick, to)
        if ok and task.kind in (TaskKind.START_BRICK, TaskKind.RESTART_BRICK, TaskKind.RECONFIGURE_BRICK):
            brick.pid, brick.online, brick.reported_at = data.get("pid"), True, utcnow()
        elif ok and task.kind == TaskKind.STOP_BRICK:
            brick.pid, brick.online = None, False
        session.add(brick)
    # Lock the volume before counting the step's tasks: results of one step applied at the same time
    # by two workers would otherwise each see the other's task still active, and neither would take
    # the next step. Under the lock the later one sees every earlier commit.
    volume = session.exec(select(Volume).where(col(Volume.id) == task.volume_id).with_for_update()
                          .execution_options(populate_existing=True)).first() if task.volume_id else None
    if volume is None or volume.operation_id != task.operation_id:
        return  # a task of an older step: the volume has moved on
    step_tasks = list(session.exec(select(Task).where(col(Task.operation_id) == task.operation_id)))
    if any(t.phase not in TERMINAL_PHASES for t in step_tasks):
        return
    operation = OPERATIONS.get(VolumeState(volume.state))
    if operation is not None:
        operation.settle(session, volume, step_tasks)
        snapshot_follows(session, volume)  # an activated snapshot's volume: the snapshot moves with it
