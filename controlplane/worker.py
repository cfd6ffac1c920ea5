"""Control worker: consumes queue `controlplane` (agent progress, results, heartbeats) and runs
beat's jobs. Agent messages are untrusted: each is checked against the sending node's secret."""
import logging
import os
import time
from functools import cache

from celery.signals import worker_process_init

import celeryconfig
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from contracts import signing
from contracts.messages import Heartbeat, TaskProgress, TaskResult
from contracts.task_names import HEALTH_CHECK, HEARTBEAT, REDISPATCH, TASK_PROGRESS, TASK_RESULT
from controlplane.celery_app import make_celery
from controlplane.db import make_engine, session_scope
from controlplane.dispatch import BrokerQueues, CelerySender
from controlplane.models import Node
from controlplane.services import health, nodes, reconcile, redispatch, tasks, volume_options
from controlplane.settings import Settings

log = logging.getLogger(__name__)
settings = Settings()
app = make_celery(settings)


@cache
def _engine(pid: int) -> Engine:  # one engine per process (prefork children must not share)
    return make_engine(settings.effective_database_url)


def engine() -> Engine:
    return _engine(os.getpid())


@worker_process_init.connect
def _fresh_engine(**_):
    _engine.cache_clear()


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


@app.task(name=TASK_PROGRESS)
def task_progress(envelope: dict) -> None:
    with session_scope(engine()) as session:
        checked = _verified(session, envelope)
        if checked:
            progress = TaskProgress.model_validate(checked[1])
            tasks.apply_progress(session, checked[0].id, progress.task_id)


@app.task(name=TASK_RESULT)
def task_result(envelope: dict) -> None:
    with session_scope(engine()) as session:
        checked = _verified(session, envelope)
        if not checked:
            return
        try:
            result = TaskResult.model_validate(checked[1])
        except ValidationError as exc:
            log.warning("dropped a malformed task result from node %s: %s", checked[0].id, exc)
            return
        reconcile.apply_result(session, result, CelerySender(app))


@app.task(name=HEARTBEAT)
def heartbeat(envelope: dict) -> None:
    with session_scope(engine()) as session:
        checked = _verified(session, envelope)
        if checked:
            try:
                hb = Heartbeat.model_validate(checked[1])
            except ValidationError as exc:
                log.warning("dropped a malformed heartbeat from node %s: %s", checked[0].id, exc)
                return
            if health.is_stale(hb, settings.effective_node_timeout):
                log.info("dropped a stale heartbeat from node %s (sent %.0fs ago)", checked[0].name, time.time() - hb.sent_at)
                return
            health.apply_heartbeat(session, checked[0], hb)


@app.task(name=HEALTH_CHECK)
def health_check() -> int:
    with session_scope(engine()) as session:
        stale = len(health.mark_unreachable(session, settings.effective_node_timeout))
        volume_options.advance_waiting_waves(session, CelerySender(app))
        return stale


@cache
def _queues() -> BrokerQueues:
    return BrokerQueues(settings.broker_url)


@app.task(name=REDISPATCH)
def redispatch_lost() -> int:
    with session_scope(engine()) as session:
        present = lambda t: _queues().message_present(t.node_id, t.id)  # noqa: E731
        sent = redispatch.redispatch(session, CelerySender(app), settings.redispatch_after, present)
        redispatch.reap_stuck(session, celeryconfig.TASK_TIME_LIMIT + 120, CelerySender(app))
        return sent
