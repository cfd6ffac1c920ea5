"""Control worker: consumes queue `controlplane` (agent progress, results, drift reports) and runs
beat's jobs (heartbeats have their own worker: controlplane/heartbeat_worker.py). Agent messages are
untrusted: each is checked against the sending node's secret."""
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from celery.signals import worker_process_init
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, select

import celeryconfig
from contracts import signing
from contracts.drift import MAX_REPORT_BYTES, DriftReport
from contracts.messages import TaskProgress, TaskRejected, TaskResult
from contracts.task_names import (
    ALERTS_DELIVER,
    BROKER_USERS_SYNC,
    DRIFT_REPORT,
    HEALTH_CHECK,
    METADATA_COMPACT,
    REDISPATCH,
    SNAPSHOT_SCHEDULES,
    TASK_PROGRESS,
    TASK_REJECTED,
    TASK_RESULT,
)
from controlplane import change_feed
from controlplane.celery_app import make_celery
from controlplane.db import make_engine
from controlplane.dispatch import BrokerQueues, CelerySender
from controlplane.models import Node
from controlplane.services import (
    agent_access,
    alert_delivery,
    drift,
    health,
    health_alerts,
    job_runs,
    metadata,
    nodes,
    outbox,
    reconcile,
    redispatch,
    rejections,
    snapshots_schedule,
    tasks,
)
from controlplane.services.volume_ops import advance_waiting_waves
from controlplane.settings import Settings

log = logging.getLogger(__name__)
# An agent's progress or result must not be lost because the database was restarting: the message is
# published again (backing off to 30 s, for about an hour) instead of acked as failed. Applying is
# idempotent, so a retry after a commit that did happen changes nothing.
KEEP_UNTIL_APPLIED = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 1, "retry_backoff_max": 30,
                      "retry_jitter": True, "max_retries": 150}
M = TypeVar("M", bound=BaseModel)
settings = Settings()
app = make_celery(settings)


@cache
def _engine(pid: int) -> Engine:  # one engine per process (prefork children must not share)
    made = make_engine(settings.effective_database_url)
    change_feed.attach(made, settings.broker_url, settings.broker_master_name)  # open web pages learn what this worker commits
    return made


def engine() -> Engine:
    return _engine(os.getpid())


@worker_process_init.connect
def _fresh_engine(**_):
    _engine.cache_clear()


def sender() -> CelerySender:
    return CelerySender(app, settings.effective_secret_key)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session whose commits send the tasks they wrote and bump the metadata they changed."""
    with Session(engine(), expire_on_commit=False) as session:
        yield outbox.configure(session, sender(), settings.metadata_keep_versions)


def _verified(session, envelope: dict) -> tuple[Node, dict] | None:
    try:
        node = session.get(Node, signing.unsigned_node_id(envelope))
        if node is None:
            raise signing.BadSignature("unknown node")
        payload = signing.verify(envelope, nodes.secret_for(settings.effective_secret_key, node))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        log.warning("dropped an agent message that failed verification: %s", exc)
        return None
    return node, payload


def _message(session, envelope: dict, model: type[M]) -> tuple[Node, M] | None:
    """The sending node and its payload, when the signature verifies and the payload fits `model`."""
    checked = _verified(session, envelope)
    if not checked:
        return None
    try:
        return checked[0], model.model_validate(checked[1])
    except ValidationError as exc:
        log.warning("dropped a malformed %s from node %s: %s", model.__name__, checked[0].id, exc)
        return None


@app.task(name=TASK_PROGRESS, **KEEP_UNTIL_APPLIED)
def task_progress(envelope: dict) -> None:
    with session_scope() as session:
        if got := _message(session, envelope, TaskProgress):
            tasks.apply_progress(session, got[0].id, got[1].task_id)


@app.task(name=TASK_RESULT, **KEEP_UNTIL_APPLIED)
def task_result(envelope: dict) -> None:
    with session_scope() as session:
        if got := _message(session, envelope, TaskResult):
            reconcile.apply_result(session, got[1])


@app.task(name=TASK_REJECTED, **KEEP_UNTIL_APPLIED)
def task_rejected(envelope: dict) -> None:
    with session_scope() as session:
        if got := _message(session, envelope, TaskRejected):
            node, rejected = got
            log.warning("node %s refused a task message (%s): %s", node.name, rejected.code, rejected.message)
            rejections.apply(session, node, rejected)


@app.task(name=DRIFT_REPORT)
def drift_report(envelope: dict) -> None:
    """What a node observes of itself (nodeagent/drift_report.py), compared with the database."""
    body = envelope.get("body") if isinstance(envelope, dict) else None
    if isinstance(body, str) and len(body) > MAX_REPORT_BYTES:
        log.warning("dropped a drift report of %d bytes (at most %d) claiming node %s", len(body), MAX_REPORT_BYTES,
                    str(envelope.get("node_id"))[:40])
        return
    with session_scope() as session:
        if got := _message(session, envelope, DriftReport):
            drift.receive(session, got[0], got[1])


@app.task(name=HEALTH_CHECK)
def health_check() -> int:
    with session_scope() as session:
        stale = len(health.mark_unreachable(session, settings.effective_node_timeout))
        advance_waiting_waves(session)
        health_alerts.evaluate(session, health_alerts.Thresholds(settings.alert_full_percent,
                                                                 settings.alert_quiet_seconds))
        try:
            drift.evaluate_all(session)
        except Exception:  # a bug in the comparison must not stop the health check itself
            log.exception("drift evaluation failed")
            session.rollback()
        job_runs.finished(session, "health_check")
        return stale


@app.task(name=ALERTS_DELIVER)
def alerts_deliver() -> int:
    """Send new and resolved alerts to KADALU_ALERT_WEBHOOK_URL (scheduled only when it is set)."""
    if not settings.alert_webhook_url:
        return 0
    post = alert_delivery.http_post(settings.alert_webhook_url, settings.alert_webhook_timeout)
    with session_scope() as session:
        return alert_delivery.deliver(session, post, settings.alert_webhook_max_attempts)


@cache
def _queues() -> BrokerQueues:
    return BrokerQueues(settings.broker_url or "", settings.broker_master_name)  # make_celery refused to start without it


@app.task(name=REDISPATCH)
def redispatch_lost() -> int:
    with session_scope() as session:
        present = lambda t: _queues().message_present(t.node_id, t.id)  # noqa: E731
        sent = redispatch.redispatch(session, sender(), settings.redispatch_after, present)
        redispatch.reap_stuck(session, celeryconfig.TASK_TIME_LIMIT + 120)
        return sent


@app.task(name=BROKER_USERS_SYNC)
def broker_users_sync() -> int:
    """Every node has its broker user with its current password, and removed nodes have none (heals a
    broker that restarted without its ACL file, or a registration whose broker step failed)."""
    users = agent_access.broker_users(settings)
    if users is None:
        return 0
    with session_scope() as session:
        pairs = [(n.id, n.secret_generation) for n in session.exec(select(Node))]
    changed = users.sync(pairs)
    if changed:
        log.info("broker users: %d created, changed or deleted", changed)
    return changed


@app.task(name=METADATA_COMPACT)
def metadata_compact() -> int:
    """Fold each cluster's metadata change log into a snapshot once enough changes follow the last one."""
    with session_scope() as session:
        return metadata.compact_all(session, settings.metadata_keep_versions, settings.metadata_snapshot_every)


@app.task(name=SNAPSHOT_SCHEDULES)
def snapshot_schedules() -> int:
    """Take the scheduled snapshots that are due and prune the old ones (a missed run is taken once)."""
    with session_scope() as session:
        started = snapshots_schedule.run_due(session)
        job_runs.finished(session, "snapshot_schedules")
        return started
