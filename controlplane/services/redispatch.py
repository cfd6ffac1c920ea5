"""Beat's safety net for messages: re-send QUEUED tasks whose message is gone (the broker restarted
empty, the send failed, or the process died between its commit and the send), and re-send, then
fail, tasks stuck running."""
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, and_, col, or_, select

from contracts.messages import TaskError, TaskResult
from contracts.states import NodeState
from contracts.task_kinds import Phase
from controlplane.db import utcnow
from controlplane.models import Node, Task
from controlplane.services import outbox, reconcile, tasks


def lost_tasks(session: Session, older_than: float, message_present: Callable[[Task], bool]) -> list[Task]:
    cutoff = utcnow() - timedelta(seconds=older_than)
    candidates = session.exec(
        select(Task)
        .join(Node, col(Node.id) == Task.node_id)
        .where(
            col(Task.phase) == Phase.QUEUED.value,
            col(Node.state) == NodeState.ONLINE,
            or_(and_(col(Task.dispatched_at).is_(None), col(Task.created_at) < cutoff),
                col(Task.dispatched_at) < cutoff),
        )
        .order_by(col(Task.created_at))
        .limit(500)
    ).all()
    return [t for t in candidates if t.dispatched_at is None or not message_present(t)]


def redispatch(session: Session, sender: outbox.Sender, older_than: float,
               message_present: Callable[[Task], bool]) -> int:
    lost = lost_tasks(session, older_than, message_present)
    if lost:
        outbox.send(session, sender, lost)
    return len(lost)


def reap_stuck(session: Session, older_than: float, max_attempts: int = 3) -> int:
    """A task `running` for longer than the task time limit lost its result message (or its agent
    hangs). Send it again: the agent answers from its journal when it had finished. After
    `max_attempts` sends, fail it with the reason so its volume or device settles."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    stuck = session.exec(select(Task).where(col(Task.phase) == Phase.RUNNING.value,
                                            col(Task.started_at) < cutoff).limit(100)).all()
    tasks.queue_again(session, [t for t in stuck if t.attempts < max_attempts])
    session.commit()  # sent by the outbox
    for task in (t for t in stuck if t.attempts >= max_attempts):
        error = TaskError(code="timeout", errno="ETIMEDOUT",
                          message=f"no result from the node after {task.attempts} sends, {older_than:.0f}s each",
                          hint="check the agent log on the node; then retry the request")
        reconcile.apply_result(session, TaskResult(task_id=task.id, node_id=task.node_id, ok=False, error=error))
    return len(stuck)
