"""What a finished task changes: one handler per kind for done and for failed."""
from collections.abc import Callable

from sqlmodel import Session

from contracts.messages import TaskResult
from contracts.task_kinds import TaskKind
from controlplane.models import Node, Task
from controlplane.services import alerts, devices, tasks

ON_DONE: dict[str, Callable[[Session, Task, dict], None]] = {
    TaskKind.ADD_DEVICE: devices.added,
    TaskKind.REMOVE_DEVICE: devices.removed,
}
ON_FAILED: dict[str, Callable[[Session, Task], None]] = {
    TaskKind.ADD_DEVICE: devices.add_failed,
    TaskKind.REMOVE_DEVICE: devices.remove_failed,
}


def apply_result(session: Session, result: TaskResult) -> Task | None:
    task = tasks.apply_result(session, result)
    if task is None:
        return None  # duplicate or late: already applied
    if result.ok:
        handler = ON_DONE.get(task.kind)
        if handler:
            handler(session, task, result.data)
    else:
        handler = ON_FAILED.get(task.kind)
        if handler:
            handler(session, task)
        node = session.get(Node, task.node_id)
        alerts.record(
            session, task.cluster_id, "task_failed",
            f"{task.kind} on node {node.name if node else task.node_id} failed: {task.reason}", node_id=task.node_id,
        )
    session.commit()
    return task
