"""The task mechanism: write the row (it is sent when the transaction commits, see outbox.py);
apply progress and results idempotently."""
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from contracts.messages import TaskResult
from contracts.task_kinds import Phase
from contracts.task_specs import parse_spec
from controlplane.db import rowcount, utcnow
from controlplane.models import Node, Task
from controlplane.services import outbox
from controlplane.services.errors import NotFound

ACTIVE = (Phase.QUEUED.value, Phase.RUNNING.value)


def new_task(session: Session, node: Node, kind: str, spec: dict[str, Any], *, volume_id: str | None = None,
             operation_id: str | None = None) -> Task:
    """A QUEUED task, sent once the caller's transaction commits. Its spec goes through the kind's
    contract model (a bug, not a user, makes that fail)."""
    spec = parse_spec(kind, spec).model_dump()
    task = Task(cluster_id=node.cluster_id, node_id=node.id, kind=kind, spec=spec, volume_id=volume_id,
                operation_id=operation_id)
    session.add(task)
    session.flush()
    outbox.add(session, [task])
    return task


def queue_again(session: Session, again: list[Task]) -> None:
    """Back to QUEUED, sent again when the caller commits (a restarted agent, a stuck or refused task)."""
    for task in again:
        task.phase, task.started_at = Phase.QUEUED.value, None
        session.add(task)
    session.flush()
    outbox.add(session, again)


def apply_progress(session: Session, node_id: str, task_id: str) -> bool:
    now = utcnow()
    res = session.execute(
        update(Task)
        .where(col(Task.id) == task_id, col(Task.node_id) == node_id, col(Task.phase) == Phase.QUEUED.value)
        .values(phase=Phase.RUNNING.value, started_at=now)
    )
    session.commit()
    return rowcount(res) == 1


def apply_result(session: Session, result: TaskResult) -> Task | None:
    """Move an active task to done/failed once; a repeated or late result changes nothing."""
    phase = Phase.DONE if result.ok else Phase.FAILED
    error = result.error.model_dump() if result.error else None
    reason = "" if result.ok else _reason(error)
    res = session.execute(
        update(Task)
        .where(col(Task.id) == result.task_id, col(Task.node_id) == result.node_id, col(Task.phase).in_(ACTIVE))
        .values(phase=phase.value, finished_at=utcnow(), result=result.data, error=error, reason=reason)
    )
    if rowcount(res) != 1:
        session.rollback()
        return None
    task = session.get(Task, result.task_id)
    assert task is not None  # the conditional update just found it
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

