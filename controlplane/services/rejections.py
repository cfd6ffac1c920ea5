"""Task messages an agent refused (nodeagent/message_guard.py): each refusal is an alert; one that
only says the message was too old or signed with the node's previous secret (the agent registered
again meanwhile) gets its task sent again at once, freshly signed."""
from sqlmodel import Session

from contracts.messages import TaskRejected
from controlplane.models import Node, Task
from controlplane.services import alerts, tasks

# The message was genuine but outdated: re-send. Every other code means a message the control
# plane did not send as it arrived (forged, altered, misrouted) or a version mismatch.
RESEND_CODES = frozenset({"stale_key", "expired"})
MAX_RESENDS = 10


def apply(session: Session, node: Node, rejected: TaskRejected) -> Task | None:
    task = session.get(Task, rejected.task_id) if rejected.task_id else None
    if task is not None and task.node_id != node.id:
        task = None  # a node reports only about its own tasks
    resend = (task is not None and rejected.code in RESEND_CODES and task.phase in tasks.ACTIVE
              and task.attempts < MAX_RESENDS)
    severity = "warning" if rejected.code in RESEND_CODES | {"protocol", "future"} else "critical"
    what = f"task {task.kind} {task.id}" if task is not None else "a task message"
    alerts.record(
        session, node.cluster_id, "message_rejected",
        f"node {node.name} refused {what} ({rejected.code}): {rejected.message}"
        + ("; sent again" if resend else ""),
        severity=severity, node_id=node.id, volume_id=task.volume_id if task is not None else None,
        key=f"message_rejected:{node.id}:{rejected.code}",  # one open alert per node and kind of refusal
    )
    if resend and task is not None:
        tasks.queue_again(session, [task])
    session.commit()  # a task queued again is sent by the outbox
    return task if resend else None
