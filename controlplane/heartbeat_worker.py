"""The heartbeat worker (`kadalu-server heartbeat-worker`): drains queue `controlplane.heartbeats` in
batches and applies each batch in one transaction (controlplane/services/heartbeat_batch.py).

Agents send heartbeats as Celery task messages (task `kadalu.controlplane.heartbeat`, one signed
envelope as its argument); this process reads them with kombu rather than running one Celery task,
transaction and broker round trip each. It holds at most `batch` unacknowledged messages, applies
them when the batch is full, when the oldest has waited `max_wait` seconds, or when the queue is
empty, then acknowledges them. A heartbeat lost (a crash before the ack restores it after the
visibility timeout; the node's next heartbeat replaces it anyway) costs nothing, so a batch that
fails is logged and dropped rather than retried forever."""
import argparse
import faulthandler
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from kombu import Connection, Consumer, Exchange, Queue
from kombu.message import Message
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from contracts.task_names import HEARTBEAT, HEARTBEAT_QUEUE
from controlplane import change_feed
from controlplane.celery_app import make_celery
from controlplane.db import make_engine
from controlplane.services import heartbeat_batch
from controlplane.settings import Settings

log = logging.getLogger("kadalu.heartbeats")
QUEUE = Queue(HEARTBEAT_QUEUE, Exchange(HEARTBEAT_QUEUE), routing_key=HEARTBEAT_QUEUE)  # as Celery declares it


@dataclass
class Limits:
    batch: int = 200  # messages per transaction (and unacknowledged at once)
    max_wait: float = 0.2  # seconds the oldest message of a batch waits for more


def envelope_of(message: Message) -> object:
    """The signed envelope a heartbeat task message carries (Celery message protocol 2:
    [args, kwargs, embed]), or None when the message is not one."""
    if message.headers.get("task") != HEARTBEAT:
        return None
    body = message.decode()
    if isinstance(body, list) and body and isinstance(body[0], list) and len(body[0]) == 1:
        return body[0][0]
    return None


def apply(engine: Engine, settings: Settings, messages: list[Message]) -> heartbeat_batch.Outcome:
    envelopes, outcome = [], heartbeat_batch.Outcome()
    for message in messages:
        try:
            envelope = envelope_of(message)
        except Exception as exc:  # not JSON, a content type other than JSON: whoever sent it, drop it
            envelope = None
            log.warning("dropped a message on %s that could not be decoded: %s", HEARTBEAT_QUEUE, exc)
        if envelope is None:
            outcome.refused += 1
        else:
            envelopes.append(envelope)
    with Session(engine, expire_on_commit=False) as session:
        try:
            pairs, refused = heartbeat_batch.verified(session, envelopes, settings.effective_secret_key)
            outcome.refused += refused
            outcome += heartbeat_batch.apply_verified(session, pairs, settings.effective_node_timeout,
                                                      settings.effective_heartbeat_min_gap)
        except SQLAlchemyError:
            session.rollback()
            log.exception("a batch of %d heartbeats was not applied (the nodes' next heartbeats replace them)", len(messages))
    return outcome


def run(settings: Settings, limits: Limits, stop: threading.Event) -> None:
    engine = make_engine(settings.effective_database_url)
    change_feed.attach(engine, settings.broker_url, settings.broker_master_name)
    app = make_celery(settings)
    while not stop.is_set():
        with app.connection_for_read() as conn:
            try:
                conn.ensure_connection(max_retries=None)
                _consume(conn, engine, settings, limits, stop)
            except conn.connection_errors as exc:  # unacknowledged heartbeats come back after the visibility timeout
                log.warning("broker connection lost (%s): reconnecting", exc)
                stop.wait(1.0)
    engine.dispose()


def _consume(conn: Connection, engine: Engine, settings: Settings, limits: Limits, stop: threading.Event) -> None:
    pending: list[Message] = []
    with Consumer(conn, [QUEUE], on_message=pending.append, accept=["json"], prefetch_count=limits.batch):
        log.info("heartbeat worker %d consuming %s in batches of up to %d", os.getpid(), HEARTBEAT_QUEUE, limits.batch)
        first = 0.0
        while not stop.is_set():
            try:
                conn.drain_events(timeout=0.05 if pending else 1.0)
                if len(pending) == 1:
                    first = time.monotonic()
                if len(pending) < limits.batch and time.monotonic() - first < limits.max_wait:
                    continue
            except TimeoutError:  # the queue is empty for now: apply what came
                pass
            if pending:
                _flush(engine, settings, pending)


def _flush(engine: Engine, settings: Settings, pending: list[Message]) -> None:
    t0 = time.perf_counter()
    outcome = apply(engine, settings, pending)
    for message in pending:
        message.ack()
    log.debug("heartbeats: %d applied, %d dropped, %d refused in %.3fs", len(outcome.applied), outcome.dropped,
              outcome.refused, time.perf_counter() - t0)
    pending.clear()


def _supervise(processes: int) -> int:
    """Several consumers (KADALU_HEARTBEAT_WORKERS): one process each; stop them all together."""
    argv = [sys.executable, "-m", "controlplane.heartbeat_worker", "--processes", "1"]
    children = [subprocess.Popen(argv) for _ in range(processes)]
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    code = 0
    while not stopping.is_set():
        if any(c.poll() is not None for c in children):
            code = 1
            break
        stopping.wait(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        child.wait()
    return code


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, help="default: KADALU_HEARTBEAT_WORKERS")
    args = p.parse_args()
    settings = Settings()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: where each thread is, on stderr
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/%(process)d] %(name)s: %(message)s")
    processes = args.processes or settings.heartbeat_workers
    if processes > 1:
        sys.exit(_supervise(processes))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(settings, Limits(settings.heartbeat_batch, settings.heartbeat_batch_wait), stop)


if __name__ == "__main__":
    main()
