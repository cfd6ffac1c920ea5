"""The agent's Celery app: one task, `kadalu.agent.run`, consumed only from queue node.<node-id>.

Every run is keyed by task id: a redelivered message whose task already finished returns the
recorded result instead of acting again. Failures are returned as results, never raised, so the
result callback always reaches the control plane."""
import logging
import threading
import traceback

from celery import Celery

import celeryconfig
from contracts.messages import TaskMessage, TaskProgress, TaskResult
from contracts.task_names import AGENT_RUN, TASK_PROGRESS
from nodeagent import handlers
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.state_files import read_json, write_json

log = logging.getLogger(__name__)


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


def run_task(ctx: AgentContext, journal: TaskJournal, app: Celery, raw: dict) -> dict:
    msg = TaskMessage.model_validate(raw)
    if msg.node_id != ctx.node_id:  # a message in the wrong queue: refuse to act on it
        result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=False,
                            error=AgentError("wrong_node", "task was addressed to another node").to_error())
        return ctx.signed(result.model_dump())
    with journal.lock(msg.task_id):
        done = journal.recorded(msg.task_id)
        if done is not None:
            return ctx.signed(done)
        ctx.send(app, TASK_PROGRESS, TaskProgress(task_id=msg.task_id, node_id=ctx.node_id).model_dump())
        ctx.refresh_metadata(msg.metadata_version)
        try:
            data = handlers.handle(ctx, msg.kind, msg.spec)
            result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=True, data=data)
        except AgentError as exc:
            result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=False, error=exc.to_error())
        except Exception as exc:  # a bug or an unexpected OS failure: report it, never lose the task
            log.exception("task %s (%s) failed unexpectedly", msg.task_id, msg.kind)
            err = AgentError("internal", f"{type(exc).__name__}: {exc}",
                             "see the agent log on the node; " + traceback.format_exc(limit=2)[-300:])
            result = TaskResult(task_id=msg.task_id, node_id=ctx.node_id, ok=False, error=err.to_error())
        journal.record(result)
        return ctx.signed(result.model_dump())


def make_agent_app(ctx: AgentContext, broker_url: str) -> Celery:
    app = Celery(f"kadalu-agent-{ctx.node_name}", set_as_current=True)
    app.conf.update(celeryconfig.agent_config(broker_url, ctx.node_id))
    journal = TaskJournal(ctx)

    @app.task(name=AGENT_RUN, bind=True)
    def agent_run(self, raw: dict) -> dict:
        return run_task(ctx, journal, self.app, raw)

    return app
