"""The agent's Celery app: one task, `kadalu.agent.run`, consumed only from queue node.<node-id>.

A message is acted on only after nodeagent.message_guard verified it (signed by the control plane
for this node, recent, in this protocol); a refused one is logged and reported, never run.
Every run is keyed by task id: a redelivered message whose task already finished returns the
recorded result instead of acting again. Failures are results, never raised, and the agent sends
each result itself, signed, to queue `controlplane`."""
import logging
import threading
import time
import traceback

from celery import Celery
from pydantic import ValidationError

import celeryconfig
from contracts.messages import TaskMessage, TaskProgress, TaskRejected, TaskResult
from contracts.task_kinds import TaskKind
from contracts.task_names import AGENT_RUN, TASK_PROGRESS, TASK_REJECTED, TASK_RESULT
from contracts.task_specs import parse_spec
from nodeagent import handlers, message_guard
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.state_files import read_json, write_json

log = logging.getLogger(__name__)
# Task kinds whose handler does not read the local metadata copy (a brick task carries the whole
# volume spec): it is refreshed alongside, not before, which takes an HTTP round trip to the control
# plane off the path of every step of create, start, stop, delete and live changes. The copy is the
# node's record for restarts: it catches up within that round trip of the task starting.
PROGRESS_AFTER = 0.2  # seconds a task runs before the agent reports it running
REFRESH_ALONGSIDE = frozenset({TaskKind.CREATE_BRICK, TaskKind.START_BRICK, TaskKind.STOP_BRICK,
                               TaskKind.RESTART_BRICK, TaskKind.RECONFIGURE_BRICK, TaskKind.DELETE_BRICK})


class TaskJournal:
    """Results of finished tasks, one file each, and a lock per task id in flight."""

    def __init__(self, ctx: AgentContext):
        self.ctx = ctx
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, task_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(task_id, threading.Lock())

    def recorded(self, task_id: str) -> dict | None:
        return read_json(self.ctx.state.task_file(task_id))

    def record(self, result: TaskResult) -> None:
        write_json(self.ctx.state.task_file(result.task_id), result.model_dump())

    def prune(self, older_than: float) -> int:
        """Forget results older than any message that could still be accepted (see message_guard)."""
        cutoff, removed = time.time() - older_than, 0
        for path in self.ctx.state.tasks_dir.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed


def reject(ctx: AgentContext, app: Celery, exc: message_guard.Rejected) -> None:
    log.warning("refused a task message (%s): %s%s", exc.code, exc.message,
                f" [claimed task {exc.task_id}]" if exc.task_id else "")
    try:
        report = TaskRejected(node_id=ctx.node_id, task_id=exc.task_id, code=exc.code, message=exc.message[:1024])
        ctx.send(app, TASK_REJECTED, report.model_dump())
    except Exception as send_exc:  # the broker is down: the log line above stays
        log.warning("could not report the refused message: %s", send_exc)


def run_task(ctx: AgentContext, journal: TaskJournal, app: Celery, envelope: dict) -> dict | None:
    """Verify, then run once; the signed result goes to the control plane (and is returned)."""
    try:
        msg = message_guard.open_task(ctx.keys, envelope)
    except message_guard.Rejected as exc:
        reject(ctx, app, exc)
        return None
    result = _run_verified(ctx, journal, app, msg)
    ctx.send(app, TASK_RESULT, result)
    return result


def _run_verified(ctx: AgentContext, journal: TaskJournal, app: Celery, msg: TaskMessage) -> dict:
    with journal.lock(msg.task_id):
        done = journal.recorded(msg.task_id)
        if done is not None:
            return done
        # Progress (the task's "running" word) only for a task still running after PROGRESS_AFTER: a
        # brick task of tens of milliseconds would otherwise make the control worker commit twice,
        # and its result wait behind the progress of the volume's other bricks.
        progress = threading.Timer(PROGRESS_AFTER, _send_progress, args=(ctx, app, msg))
        progress.daemon = True
        progress.start()
        try:
            return _run_handler(ctx, journal, msg)
        finally:
            progress.cancel()


def _send_progress(ctx: AgentContext, app: Celery, msg: TaskMessage) -> None:
    try:
        ctx.send(app, TASK_PROGRESS, TaskProgress(task_id=msg.task_id, node_id=ctx.node_id).model_dump())
    except Exception as exc:  # the result still goes; a task without progress goes queued -> done
        log.warning("could not report task %s running: %s", msg.task_id, exc)


def _run_handler(ctx: AgentContext, journal: TaskJournal, msg: TaskMessage) -> dict:
    if msg.kind in REFRESH_ALONGSIDE:
        # the spec carries all the handler needs; the copy (for the mounts' volfiles) follows
        threading.Thread(target=ctx.refresh_metadata, args=(msg.metadata_version,), daemon=True,
                         name=f"metadata-{msg.task_id}").start()
    else:
        ctx.refresh_metadata(msg.metadata_version)
    try:
        try:
            parse_spec(msg.kind, msg.spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise AgentError("bad_spec", f"the {msg.kind} spec does not fit its contract: {first.get('loc')} "
                             f"{first.get('msg')}", "the control plane and the agent disagree on the spec: "
                             "check both versions") from None
        data = handlers.handle(ctx, msg.kind, msg.spec)
        result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=True, data=data)
    except AgentError as exc:
        result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=False, error=exc.to_error())
    except Exception as exc:  # a bug or an unexpected OS failure: report it, never lose the task
        log.exception("task %s (%s) failed unexpectedly", msg.task_id, msg.kind)
        err = AgentError("internal", f"{type(exc).__name__}: {exc}",
                         "see the agent log on the node; " + traceback.format_exc(limit=2)[-300:])
        result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=False, error=err.to_error())
    try:
        journal.record(result)
    except OSError as exc:  # the state disk is full: the result still goes to the control plane
        log.error("could not record the result of task %s in %s (%s): a redelivered message would run it "
                  "again", msg.task_id, ctx.state.tasks_dir, exc)
    return result.model_dump()


def make_agent_app(ctx: AgentContext, broker_url: str, master_name: str | None = None) -> Celery:
    app = Celery(f"kadalu-agent-{ctx.node_name}", set_as_current=True)
    app.conf.update(celeryconfig.agent_config(broker_url, ctx.node_id, master_name))
    journal = TaskJournal(ctx)
    journal.prune(2 * (message_guard.MAX_AGE_SECONDS + message_guard.MAX_CLOCK_SKEW_SECONDS))

    @app.task(name=AGENT_RUN, bind=True)
    def agent_run(self, envelope: dict) -> None:
        run_task(ctx, journal, self.app, envelope)

    return app
