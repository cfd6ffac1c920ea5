"""What a finished task changes: one handler per kind. A handler may take the next step of an
operation (a created volume starts); its tasks are sent when this transaction commits."""
from collections.abc import Callable

from sqlmodel import Session

from contracts.messages import TaskResult
from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Node, Task
from controlplane.services import alerts, devices, drift_repair, georep_steps, quota, rebalance, snapshots_reconcile, tasks
from controlplane.services.volume_ops.registry import BRICK_KINDS, brick_task_finished

Handler = Callable[[Session, Task, dict], None]


def _device_added(session: Session, task: Task, data: dict) -> None:
    if task.phase == Phase.DONE.value:
        devices.added(session, task, data)
    else:
        devices.add_failed(session, task)


def _device_removed(session: Session, task: Task, data: dict) -> None:
    if task.phase == Phase.DONE.value:
        devices.removed(session, task, data)
    else:
        devices.remove_failed(session, task)


HANDLERS: dict[str, Handler] = {
    TaskKind.ADD_DEVICE: _device_added,
    TaskKind.REMOVE_DEVICE: _device_removed,
    **{kind: brick_task_finished for kind in BRICK_KINDS},
    TaskKind.START_REBALANCE: rebalance.task_finished,
    TaskKind.STOP_REBALANCE: rebalance.task_finished,
    TaskKind.REPAIR_BRICK: drift_repair.repair_finished,
    TaskKind.QUOTA_LIMIT: quota.limit_task_finished,
    **{kind: georep_steps.task_finished for kind in TaskKind if kind.startswith("GEOREP_")},
    **{kind: snapshots_reconcile.task_finished for kind in snapshots_reconcile.KINDS},
}


def apply_result(session: Session, result: TaskResult) -> Task | None:
    task = tasks.apply_result(session, result)
    if task is None:
        return None  # duplicate or late: already applied
    HANDLERS[task.kind](session, task, result.data)
    if not result.ok:
        node = session.get(Node, task.node_id)
        alerts.record(
            session, task.cluster_id, "task_failed",
            f"{task.kind} on node {node.name if node else task.node_id} failed: {task.reason}", node_id=task.node_id,
            volume_id=task.volume_id,
        )
    session.commit()
    return task
