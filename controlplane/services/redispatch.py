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
