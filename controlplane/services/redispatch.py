"""Re-send QUEUED tasks whose message is gone (broker restarted empty, or the send failed)."""
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, and_, or_, select

from contracts.task_kinds import Phase
from controlplane.db import utcnow
from controlplane.models import Node, Task
from controlplane.services import tasks


def lost_tasks(session: Session, older_than: float, message_present: Callable[[Task], bool]) -> list[Task]:
    cutoff = utcnow() - timedelta(seconds=older_than)
    candidates = session.exec(
        select(Task)
        .join(Node, Node.id == Task.node_id)
        .where(
            Task.phase == Phase.QUEUED.value,
            Node.state == "Online",
            or_(and_(Task.dispatched_at.is_(None), Task.created_at < cutoff), Task.dispatched_at < cutoff),
        )
        .order_by(Task.created_at)
        .limit(500)
    ).all()
    return [t for t in candidates if t.dispatched_at is None or not message_present(t)]


def redispatch(session: Session, sender: tasks.Sender, older_than: float, message_present: Callable[[Task], bool]) -> int:
    lost = lost_tasks(session, older_than, message_present)
    if lost:
        tasks.send(session, sender, lost)
    return len(lost)


def reap_stuck(session: Session, older_than: float, sender: tasks.Sender) -> int:
    """A task `running` for longer than the task time limit lost its result: fail it with the reason,
    so the volume or device it belongs to settles instead of waiting forever."""
    from contracts.messages import TaskError, TaskResult
    from controlplane.services import reconcile

    cutoff = utcnow() - timedelta(seconds=older_than)
    stuck = session.exec(select(Task).where(Task.phase == Phase.RUNNING.value, Task.started_at < cutoff).limit(100)).all()
    for task in stuck:
        error = TaskError(code="timeout", errno="ETIMEDOUT", message=f"no result from the node within {older_than:.0f}s",
                          hint="check the agent log on the node; then retry the request")
        reconcile.apply_result(session, TaskResult(task_id=task.id, node_id=task.node_id, ok=False, error=error), sender)
    return len(stuck)
