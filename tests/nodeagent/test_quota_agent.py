"""The agent's quota pieces without GlusterFS: quota paths walked under a mount (symlinks and files
refused), the quota daemon started, kept, restarted and stopped through an injected runner, the
QUOTA_LIMIT spec checked before anything is mounted."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.quota import decode_size, encode_limit, quota_path_problem
from nodeagent import handlers
from nodeagent.errors import AgentError
from nodeagent.gluster import quotad
from nodeagent.quota_mounts import inside
from nodeagent.runner import Completed
from tests.nodeagent.agent_factory import agent
from tests.unit.volgen.samples import CASES


def test_inside_walks_the_path_and_refuses_symlinks_and_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    os.symlink("/etc", tmp_path / "a" / "out")
    assert inside(tmp_path, "/") == tmp_path
    assert inside(tmp_path, "/a/b") == tmp_path / "a" / "b"
    assert inside(tmp_path, "/a/missing") is None
    with pytest.raises(AgentError, match="symbolic link") as exc:
        inside(tmp_path, "/a/out/ssh")
    assert exc.value.code == "symlink"
    with pytest.raises(AgentError, match="not a directory"):
        inside(tmp_path, "/file")
    with pytest.raises(ValueError):
        inside(tmp_path, "/a/../../etc")


def test_quota_path_rule_and_xattr_formats():
    for bad in ("a", "/a/", "//a", "/a/./b", "/a/../b", "/a\x00", "/" + "x" * 256, "/" + "a/" * 2049 + "b", 7):
        assert quota_path_problem(bad), bad
    for good in ("/", "/a", "/projects/team a/ü"):
        assert quota_path_problem(good) is None
    assert encode_limit(10, None) == (10).to_bytes(8, "big") + (-1).to_bytes(8, "big", signed=True)
    assert decode_size((5).to_bytes(8, "big") + (2).to_bytes(8, "big") + (1).to_bytes(8, "big")) == (5, 2, 1)
    assert decode_size((5).to_bytes(8, "big")) == (5, 0, 0)
    with pytest.raises(ValueError):
        decode_size(b"\x00")


class FakeRunner:
    """Runs `sleep` in place of glusterfs and writes its pid file, as the daemon would."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.procs: list[subprocess.Popen] = []

    def run(self, argv, timeout=120):
        self.calls.append(argv)
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "glusterfs"])
        self.procs.append(proc)
        Path(argv[argv.index("-p") + 1]).write_text(str(proc.pid))
        return Completed(0, "", "")

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def test_the_quota_daemon_follows_the_volumes_with_quota(tmp_path, monkeypatch):
    monkeypatch.setattr("nodeagent.gluster.quotad.running_pid",
                        lambda pidfile, binary=None: int(pidfile.read_text()) if pidfile.exists()
                        and os.path.exists(f"/proc/{pidfile.read_text()}") else None)
    runner, socket = FakeRunner(), str(tmp_path / "run" / "quotad.socket")
    quota, other = CASES["replicate3-quota"], CASES["replicate3"]
    try:
        assert quotad.sync(tmp_path, [], runner, socket) == "absent"
        assert quotad.sync(tmp_path, [quota], runner, socket) == "started"
        argv = runner.calls[0]
        assert argv[:3] == ["glusterfs", "--process-name", "quotad"] and "*replicate*.entry-self-heal=off" in argv
        volfile = Path(argv[argv.index("-f") + 1])
        assert "option rep3q.volume-id rep3q" in volfile.read_text() and oct(volfile.stat().st_mode)[-3:] == "600"
        assert quotad.sync(tmp_path, [quota, other], runner, socket) == "unchanged"  # other has no quota
        renamed = quota.model_copy(update={"name": "rep3q2"})
        assert quotad.sync(tmp_path, [quota, renamed], runner, socket) == "restarted"
        assert quotad.sync(tmp_path, [], runner, socket) == "stopped" and not volfile.exists()
    finally:
        runner.stop()


def test_a_quota_task_for_a_volume_without_a_brick_here_is_refused(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    spec = {"volume": CASES["replicate3-quota"].model_dump(), "path": "/a", "action": "set", "hard_bytes": 1}
    with pytest.raises(AgentError) as exc:
        handlers.handle(ctx, "QUOTA_LIMIT", spec)
    assert exc.value.code == "wrong_node"
    for bad in ({**spec, "path": "/a/../b"}, {**spec, "hard_bytes": -1}, {**spec, "soft_percent": 101},
                {**spec, "action": "rm"}, {**spec, "extra": 1}):
        with pytest.raises(AgentError) as exc:
            handlers.handle(ctx, "QUOTA_LIMIT", bad)
        assert exc.value.code == "bad_spec", bad
