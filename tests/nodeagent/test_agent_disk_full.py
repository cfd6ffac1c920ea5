"""An agent whose state disk is full (a small tmpfs, filled): a task still gets its result to the control
plane, failed with the reason, instead of dying unreported; the files already there stay whole and no
half-written temp file is left behind. Needs root (mount)."""
import json
import os
import subprocess
import time
import uuid

import pytest

from contracts.messages import TaskMessage
from controlplane.dispatch import signed_task
from controlplane.security import node_secret
from nodeagent.state_files import write_json
from nodeagent.worker import TaskJournal, run_task
from tests.nodeagent.agent_factory import NOT_ROOT, agent

pytestmark = pytest.mark.skipif(NOT_ROOT, reason="mounting a tmpfs needs root")
SERVER_KEY = "server-key"


class Outbox:
    """The Celery app at the edge: what the agent sends to queue `controlplane`."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    def send_task(self, name, args, queue):
        self.sent.append((name, args[0]))


@pytest.fixture
def full_state(tmp_path):
    state = tmp_path / "n1" / "state"
    state.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(state)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield state
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def fill(directory) -> None:
    try:
        with open(directory / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass


def test_a_full_state_disk_fails_the_task_with_the_reason_and_corrupts_nothing(tmp_path, full_state):
    devices = tmp_path / "devices"
    (devices / "d1").mkdir(parents=True)
    ctx = agent(tmp_path, (str(devices),))
    ctx.secret = node_secret(SERVER_KEY, ctx.node_id, 1)
    ctx.state.save_metadata(3, {"volumes": []})
    fill(full_state)
    with pytest.raises(OSError):
        write_json(full_state / "metadata.json", {"version": 4, "content": {"big": "x" * 100_000}})
    assert json.loads((full_state / "metadata.json").read_text())["version"] == 3  # the old copy, whole
    assert [p.name for p in full_state.iterdir() if p.name.endswith(".tmp")] == []
    msg = TaskMessage(task_id=str(uuid.uuid4()), node_id=ctx.node_id, kind="ADD_DEVICE", issued_at=time.time(),
                      key_generation=1, spec={"device_id": str(uuid.uuid4()), "path": str(devices / "d1"),
                                              "kind": "directory"})
    out = Outbox()
    result = run_task(ctx, TaskJournal(ctx), out, signed_task(msg, SERVER_KEY))
    assert result is not None and result["ok"] is False
    assert "No space left on device" in result["error"]["message"], result
    sent = [json.loads(env["body"]) for name, env in out.sent if name.endswith("task_result")]
    assert sent == [result]  # reported, although the journal could not keep it
    assert [p.name for p in full_state.rglob("*.tmp")] == []
    os.unlink(full_state / "filler")
