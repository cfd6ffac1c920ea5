"""Dispatch after commit: tasks written in a transaction are sent when, and only when, it commits.

`tasks.new_task` (and anything that queues a task again) puts the task's id in the session's
outbox; when the session commits, the outbox is sent with the sender the session was configured
with (`configure`). A rollback empties it. A crash between the commit and the send leaves the
tasks QUEUED and undispatched: beat's re-dispatch sends them (controlplane/services/redispatch.py).
No route and no service calls a sender itself."""
import logging
import time
from typing import Any, Protocol

from sqlalchemy import event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from contracts.messages import TaskMessage
from controlplane.db import utcnow
from controlplane.models import Cluster, Node, Task

log = logging.getLogger(__name__)
OUTBOX, SENDER, KEEP_VERSIONS = "kadalu.outbox", "kadalu.sender", "kadalu.keep_versions"


class Sender(Protocol):
    def send(self, message: TaskMessage) -> None: ...


def configure(session: Session, sender: Sender | None, keep_versions: int | None = None) -> Session:
    """What the session's commits do: send its outbox with `sender` (None: leave tasks for beat), and
    keep this many metadata versions per cluster (see controlplane/services/metadata.py)."""
    session.info[SENDER] = sender
    if keep_versions is not None:
        session.info[KEEP_VERSIONS] = keep_versions
    return session


def add(session: Session, tasks: list[Task]) -> None:
    """Send these (flushed) tasks once the session commits."""
    box: list[str] = session.info.setdefault(OUTBOX, [])
    box.extend(t.id for t in tasks if t.id not in box)


def send(session: Session, sender: Sender, tasks: list[Task]) -> int:
    """Send committed tasks now (beat's re-dispatch, and the outbox after a commit). A broker failure
    leaves them QUEUED: beat re-sends them. Commits the dispatch bookkeeping; returns how many went.
    Every message goes out before the bookkeeping is written (one UPDATE): the agents start at once."""
    versions: dict[str, int] = {}
    generations: dict[str, int] = {}
    sent: list[str] = []
    for task in tasks:
        if task.cluster_id not in versions:
            versions[task.cluster_id] = session.exec(
                select(Cluster.metadata_version).where(col(Cluster.id) == task.cluster_id)).one()
        if task.node_id not in generations:
            generations[task.node_id] = session.exec(
                select(Node.secret_generation).where(col(Node.id) == task.node_id)).one()
        message = TaskMessage(task_id=task.id, node_id=task.node_id, kind=task.kind, spec=task.spec,
                              issued_at=time.time(), key_generation=generations[task.node_id],
                              metadata_version=versions[task.cluster_id])
        try:
            sender.send(message)
        except Exception as exc:  # broker down: the row is the truth, beat retries
            log.warning("could not send task %s to node %s yet: %s", task.id, task.node_id, exc)
            continue
        sent.append(task.id)
    if sent:
        session.execute(
            update(Task).where(col(Task.id).in_(sent)).values(dispatched_at=utcnow(), attempts=Task.attempts + 1)
        )
    session.commit()
    return len(sent)


@event.listens_for(OrmSession, "after_commit")
def _send_outbox(session: Any) -> None:
    ids = session.info.pop(OUTBOX, None)
    sender = session.info.get(SENDER)
    if not ids or sender is None:
        return
    # The committed session cannot run SQL from inside this hook: a session of its own does.
    with Session(session.get_bind(), expire_on_commit=False) as own:
        rows = list(own.exec(select(Task).where(col(Task.id).in_(ids))))
        send(own, sender, sorted(rows, key=lambda t: ids.index(t.id)))


@event.listens_for(OrmSession, "after_rollback")
def _drop_outbox(session: Any) -> None:
    session.info.pop(OUTBOX, None)
