"""The task mechanism: write and commit the row, then send; apply progress and results idempotently."""
import logging
import time
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, select

from contracts.messages import TaskMessage, TaskResult
from contracts.task_kinds import Phase
from contracts.task_specs import parse_spec
from controlplane.db import utcnow
from controlplane.models import Cluster, Node, Task
from controlplane.services.errors import NotFound

log = logging.getLogger(__name__)
ACTIVE = (Phase.QUEUED.value, Phase.RUNNING.value)


class Sender(Protocol):
    def send(self, message: TaskMessage) -> None: ...


def new_task(session: Session, node: Node, kind: str, spec: dict[str, Any]) -> Task:
    """A QUEUED task; its spec goes through the kind's contract model (a bug, not a user, makes it fail)."""
    spec = parse_spec(kind, spec).model_dump()
    task = Task(cluster_id=node.cluster_id, node_id=node.id, kind=kind, spec=spec)
    session.add(task)
    session.flush()
    return task


def send(session: Session, sender: Sender, tasks: list[Task]) -> None:
    """Send committed tasks. A broker failure leaves them QUEUED: beat re-sends them."""
    for task in tasks:
        version = session.exec(select(Cluster.metadata_version).where(Cluster.id == task.cluster_id)).one()
        generation = session.exec(select(Node.secret_generation).where(Node.id == task.node_id)).one()
        message = TaskMessage(task_id=task.id, node_id=task.node_id, kind=task.kind, spec=task.spec,
                              issued_at=time.time(), key_generation=generation, metadata_version=version)
        try:
            sender.send(message)
        except Exception as exc:  # broker down: the row is the truth, beat retries
            log.warning("could not send task %s to node %s yet: %s", task.id, task.node_id, exc)
            continue
        session.execute(
            update(Task).where(Task.id == task.id).values(dispatched_at=utcnow(), attempts=Task.attempts + 1)
        )
    session.commit()


def apply_progress(session: Session, node_id: str, task_id: str) -> bool:
    now = utcnow()
    res = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.node_id == node_id, Task.phase == Phase.QUEUED.value)
        .values(phase=Phase.RUNNING.value, started_at=now)
    )
    session.commit()
    return res.rowcount == 1


def apply_result(session: Session, result: TaskResult) -> Task | None:
    """Move an active task to done/failed once; a repeated or late result changes nothing."""
    phase = Phase.DONE if result.ok else Phase.FAILED
    error = result.error.model_dump() if result.error else None
    reason = "" if result.ok else _reason(error)
    res = session.execute(
        update(Task)
        .where(Task.id == result.task_id, Task.node_id == result.node_id, Task.phase.in_(ACTIVE))
        .values(phase=phase.value, finished_at=utcnow(), result=result.data, error=error, reason=reason)
    )
    if res.rowcount != 1:
        session.rollback()
        return None
    task = session.get(Task, result.task_id)
    session.refresh(task)
    if task.started_at is None:
        task.started_at = task.finished_at
        session.add(task)
    return task  # the caller applies the kind's effect and commits


def _reason(error: dict | None) -> str:
    if not error:
        return "the agent reported a failure without details"
    text = error.get("message", "")
    if error.get("hint"):
        text += f" (how to fix: {error['hint']})"
    return text[:4096]


def get(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} not found: `kadalu task list -c CLUSTER` shows recent tasks")
    return task

