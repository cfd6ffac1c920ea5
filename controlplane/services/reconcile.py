"""What a finished task changes: one handler per kind. Handlers may start follow-up tasks
(a created volume starts), which are sent after the commit."""
from collections.abc import Callable

from sqlmodel import Session

from contracts.messages import TaskResult
from contracts.task_kinds import TaskKind
from controlplane.models import Node, Task
from controlplane.services import alerts, devices, rebalance, tasks, volumes

Handler = Callable[[Session, Task, dict], list[Task] | None]


def _device_added(session, task, data):
    devices.added(session, task, data) if task.phase == "done" else devices.add_failed(session, task)


def _device_removed(session, task, data):
    devices.removed(session, task, data) if task.phase == "done" else devices.remove_failed(session, task)


HANDLERS: dict[str, Handler] = {
    TaskKind.ADD_DEVICE: _device_added,
    TaskKind.REMOVE_DEVICE: _device_removed,
    **{kind: volumes.brick_task_finished for kind in volumes.BRICK_KINDS},
    TaskKind.START_REBALANCE: rebalance.task_finished,
    TaskKind.STOP_REBALANCE: rebalance.task_finished,
}


def apply_result(session: Session, result: TaskResult, sender: tasks.Sender) -> Task | None:
    task = tasks.apply_result(session, result)
    if task is None:
        return None  # duplicate or late: already applied
    follow_up = HANDLERS[task.kind](session, task, result.data) or []
    if not result.ok:
        node = session.get(Node, task.node_id)
        alerts.record(
            session, task.cluster_id, "task_failed",
            f"{task.kind} on node {node.name if node else task.node_id} failed: {task.reason}", node_id=task.node_id,
            volume_id=task.volume_id,
        )
    session.commit()
    if follow_up:
        tasks.send(session, sender, follow_up)
    return task
