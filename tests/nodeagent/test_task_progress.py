"""The agent reports a task running only when it runs a while (nodeagent/worker.py, PROGRESS_AFTER):
a fast task sends its result alone; a slow one sends progress first, then its result."""
import threading
import time
import uuid

from contracts.messages import TaskMessage
from controlplane.dispatch import signed_task
from controlplane.security import node_secret
from nodeagent import worker
from nodeagent.worker import TaskJournal, run_task
from tests.nodeagent.agent_factory import agent

SERVER_KEY = "server-key"


class Outbox:
    """The Celery app at the edge: what the agent sends to queue `controlplane`."""

    def __init__(self):
        self.sent: list[str] = []
        self.progressed = threading.Event()

    def send_task(self, name, args, queue):
        self.sent.append(name)
        if name.endswith("task_progress"):
            self.progressed.set()


def add_device(tmp_path):
    devices = tmp_path / "devices"
    (devices / "d1").mkdir(parents=True)
    ctx = agent(tmp_path, (str(devices),))
    ctx.secret = node_secret(SERVER_KEY, ctx.node_id, 1)
    ctx.state.save_metadata(3, {"volumes": []})  # as new as the message: no refresh to ask for
    msg = TaskMessage(task_id=str(uuid.uuid4()), node_id=ctx.node_id, kind="ADD_DEVICE", issued_at=time.time(),
                      key_generation=1, metadata_version=3,
                      spec={"device_id": str(uuid.uuid4()), "path": str(devices / "d1"), "kind": "directory"})
    return ctx, signed_task(msg, SERVER_KEY)


def test_a_fast_task_sends_its_result_without_progress(tmp_path):
    ctx, envelope = add_device(tmp_path)
    out = Outbox()
    result = run_task(ctx, TaskJournal(ctx), out, envelope)
    assert result is not None and result["ok"] is True, result
    assert [n.rsplit(".", 1)[-1] for n in out.sent] == ["task_result"]
    assert not out.progressed.wait(2 * worker.PROGRESS_AFTER)  # cancelled, not merely late


def test_a_slow_task_reports_progress_before_its_result(tmp_path, monkeypatch):
    ctx, envelope = add_device(tmp_path)
    out = Outbox()
    real = worker.handlers.handle

    def slow(ctx, kind, spec):  # runs until the agent has reported it running (bounded)
        assert out.progressed.wait(10), "no progress while the task ran"
        return real(ctx, kind, spec)

    monkeypatch.setattr(worker.handlers, "handle", slow)
    result = run_task(ctx, TaskJournal(ctx), out, envelope)
    assert result is not None and result["ok"] is True, result
    assert [n.rsplit(".", 1)[-1] for n in out.sent] == ["task_progress", "task_result"]
