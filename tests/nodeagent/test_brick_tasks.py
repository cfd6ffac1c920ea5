"""The brick task handlers, heartbeat brick reports and restart recovery, on real glusterfsd.

Three "nodes" n1..n3 on 127.0.1.1-3, each an AgentContext with its own state directory and node
id (they share nothing but the machine). Handlers are called directly; their ControlPlaneClient
points at an unused URL because brick handlers never call the control plane. Every daemon a test
starts is stopped by pid (through the pid files under each node's state dir) in teardown."""
import errno
import os
import shutil
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contracts.volume_spec import VolumeSpec
from nodeagent import handlers, heartbeat, recovery
from nodeagent.brick_handlers import layout_of
from nodeagent.context import AgentContext
from nodeagent.controlplane_client import ControlPlaneClient
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR
from nodeagent.gluster.pids import cmdline, running_pid, stop_pid, wait_for
from nodeagent.gluster.processes import port_accepts
from nodeagent.state_files import AgentState
from tests.gluster_testbed import free_port


def _missing() -> str:
    if not (shutil.which("glusterfsd") and shutil.which("glusterfs")):
        return "glusterfsd/glusterfs are not installed (Debian: apt install glusterfs-server glusterfs-client)"
    if os.geteuid() != 0:
        return "bricks need root (trusted.* xattrs)"
    return ""


pytestmark = [pytest.mark.integration, pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")]

ADDRESSES = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]




def processes_under(root: Path) -> list[int]:
    """Live processes whose command line mentions `root` (our daemons: pid file, volfile, log)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and any(str(root) in a for a in cmdline(int(entry))):
            out.append(int(entry))
    return out


class Nodes:
    def __init__(self, root: Path):
        self.root = root
        self.ports: set[int] = set()
        self.ctxs = [
            AgentContext(node_id=str(uuid.uuid4()), node_name=f"n{i + 1}", address=addr, secret="secret",
                         state=AgentState(root / f"n{i + 1}" / "state"),
                         client=ControlPlaneClient("http://127.0.0.1:9"), device_roots=(str(root),))
            for i, addr in enumerate(ADDRESSES)
        ]
        for ctx in self.ctxs:  # each node's bricks directory is a device its agent accepted
            (root / ctx.node_name / "bricks").mkdir(parents=True)
            handlers.handle(ctx, "ADD_DEVICE", {"device_id": str(uuid.uuid4()), "kind": "directory",
                                                "path": str(root / ctx.node_name / "bricks")})

    def ctx_of(self, brick) -> AgentContext:
        return next(c for c in self.ctxs if c.node_id == brick.node_id)

    def volume(self, name: str = "rep3", sets: int = 1) -> VolumeSpec:
        bricks = []
        for i in range(3 * sets):
            ctx = self.ctxs[i % 3]
            bricks.append({"id": str(uuid.uuid4()), "node_id": ctx.node_id, "node_name": ctx.node_name,
                           "address": ctx.address, "port": free_port(ctx.address, self.ports),
                           "path": str(self.root / ctx.node_name / "bricks" / f"{name}-b{i}")})
        return VolumeSpec(id=str(uuid.uuid4()), name=name, type="replicate", replica_count=3, bricks=bricks)

    def run(self, kind: str, spec: VolumeSpec, brick, **flags) -> dict:
        task = {"volume": spec.model_dump(), "brick_id": brick.id, **flags}
        return handlers.handle(self.ctx_of(brick), kind, task)

    def run_all(self, kind: str, spec: VolumeSpec, parallel: bool = False, **flags) -> list[dict]:
        if parallel:
            with ThreadPoolExecutor(len(spec.bricks)) as pool:
                return list(pool.map(lambda b: self.run(kind, spec, b, **flags), spec.bricks))
        return [self.run(kind, spec, b, **flags) for b in spec.bricks]

    def set_state(self, spec: VolumeSpec, state: str, version: int) -> None:
        for ctx in self.ctxs:
            ctx.state.save_metadata(version, {"volumes": [{"spec": spec.model_dump(), "state": state}]})

    def teardown(self) -> None:
        for ctx in self.ctxs:
            for pidfile in sorted((Path(ctx.state.root) / "run").glob("*.pid")):
                stop_pid(pidfile, timeout=5)


@pytest.fixture
def nodes(tmp_path):
    n = Nodes(tmp_path)
    try:
        yield n
    finally:
        n.teardown()
    assert processes_under(tmp_path) == []


def brick_pid(nodes: Nodes, brick) -> int | None:
    return running_pid(layout_of(nodes.ctx_of(brick)).brick_pidfile(brick), "glusterfsd")


def shd_pid(ctx: AgentContext, spec: VolumeSpec) -> int | None:
    return running_pid(layout_of(ctx).shd_pidfile(spec), "glusterfs")


def test_create_start_is_idempotent_and_reported_online(nodes):
    spec = nodes.volume()
    assert nodes.run_all("CREATE_BRICK", spec) == [{}, {}, {}]
    assert nodes.run_all("CREATE_BRICK", spec) == [{}, {}, {}]  # redelivered: nothing changes
    started = nodes.run_all("START_BRICK", spec)
    for brick, data in zip(spec.bricks, started, strict=True):
        assert data == {"pid": brick_pid(nodes, brick), "port": brick.port}
        assert port_accepts(brick.address, brick.port)
    for ctx in nodes.ctxs:
        assert shd_pid(ctx, spec)
    assert nodes.run_all("START_BRICK", spec) == started  # a running brick is kept

    nodes.set_state(spec, "Started", 1)
    for ctx, brick, data in zip(nodes.ctxs, spec.bricks, started, strict=True):
        hb = heartbeat.build(ctx)
        assert len(hb.bricks) == 1
        report = hb.bricks[0]
        assert (report.brick_id, report.volume_id, report.pid, report.port) == (brick.id, spec.id, data["pid"], brick.port)
        assert report.online
        assert report.size_bytes > 0 and 0 < report.free_bytes <= report.size_bytes
    nodes.set_state(spec, "Stopped", 2)
    assert heartbeat.build(nodes.ctxs[0]).bricks == []  # only volumes being started/stopped are reported


def test_heartbeat_reports_a_dead_brick_offline(nodes):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    nodes.set_state(spec, "StartFailed", 1)
    report = heartbeat.build(nodes.ctxs[0]).bricks[0]
    assert (report.pid, report.online) == (None, False)
    assert report.size_bytes > 0  # the brick directory exists


def test_stop_stops_bricks_and_the_self_heal_daemon(nodes, tmp_path):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    nodes.run_all("START_BRICK", spec)
    ctx1 = nodes.ctxs[0]
    assert nodes.run("STOP_BRICK", spec, spec.bricks[0]) == {}
    assert brick_pid(nodes, spec.bricks[0]) is None
    assert shd_pid(ctx1, spec) is None  # its only brick of the volume stopped
    assert shd_pid(nodes.ctxs[1], spec)  # other nodes keep theirs
    assert nodes.run_all("STOP_BRICK", spec) == [{}, {}, {}]
    assert nodes.run_all("STOP_BRICK", spec) == [{}, {}, {}]  # stopping a stopped brick is fine
    assert processes_under(tmp_path) == []
    assert not any(port_accepts(b.address, b.port) for b in spec.bricks)


def test_concurrent_tasks_of_one_volume_share_one_self_heal_daemon(nodes, tmp_path):
    spec = nodes.volume("rep3x2", sets=2)  # two bricks of the volume on each node
    nodes.run_all("CREATE_BRICK", spec, parallel=True)
    started = nodes.run_all("START_BRICK", spec, parallel=True)
    assert all(port_accepts(b.address, b.port) for b in spec.bricks)
    shds = [p for p in processes_under(tmp_path) if f"shd/{spec.name}" in cmdline(p)]
    assert sorted(shds) == sorted(shd_pid(ctx, spec) for ctx in nodes.ctxs)  # exactly one per node
    assert [d["pid"] for d in started] == [brick_pid(nodes, b) for b in spec.bricks]
    # Stopping one of a node's two bricks keeps that node's daemon; stopping both in parallel ends it.
    nodes.run("STOP_BRICK", spec, spec.bricks[0])
    assert shd_pid(nodes.ctxs[0], spec)
    nodes.run_all("STOP_BRICK", spec, parallel=True)
    assert processes_under(tmp_path) == []


def test_start_fails_cleanly(nodes):
    spec = nodes.volume()
    with pytest.raises(AgentError) as exc:  # never prepared: glusterfsd refuses, the log says why
        nodes.run("START_BRICK", spec, spec.bricks[0])
    assert exc.value.code in ("not_found", "brick_not_prepared")
    assert brick_pid(nodes, spec.bricks[0]) is None
    with pytest.raises(AgentError) as exc:  # sent to the wrong node
        handlers.handle(nodes.ctxs[1], "START_BRICK", {"volume": spec.model_dump(), "brick_id": spec.bricks[0].id})
    assert exc.value.code == "wrong_node"
    with pytest.raises(AgentError) as exc:
        handlers.handle(nodes.ctxs[0], "CREATE_BRICK", {"volume": spec.model_dump(), "brick_id": str(uuid.uuid4())})
    assert exc.value.code == "unknown_brick"
    with pytest.raises(AgentError) as exc:
        handlers.handle(nodes.ctxs[0], "CREATE_BRICK", {"volume": {}, "brick_id": "x"})
    assert exc.value.code == "bad_spec"


def test_delete_clears_bricks_and_keeps_data_unless_purged(nodes, tmp_path):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    nodes.run_all("START_BRICK", spec)
    for brick in spec.bricks:
        Path(brick.path, "data.txt").write_text("keep me")
    keep, purge = spec.bricks[:2], spec.bricks[2]
    for brick in keep:  # deleted while running: the task stops it first
        assert nodes.run("DELETE_BRICK", spec, brick) == {"path": brick.path, "data_left": True}
    assert nodes.run("DELETE_BRICK", spec, purge, purge=True) == {"path": purge.path, "data_left": False}
    assert processes_under(tmp_path) == []
    for brick in spec.bricks:
        layout = layout_of(nodes.ctx_of(brick))
        with pytest.raises(OSError) as exc:
            os.getxattr(brick.path, VOLUME_ID_XATTR)
        assert exc.value.errno == errno.ENODATA
        assert not Path(brick.path, ".glusterfs").exists()
        assert not layout.brick_volfile(spec, brick).exists()
        assert not layout.brick_pidfile(brick).exists()
        assert not layout.shd_volfile(spec).exists()
        assert not layout.volfile_dir(spec).exists()
        assert Path(brick.path, "data.txt").exists() == (brick is not purge)
    assert os.listdir(purge.path) == []
    # Redelivered, and of a brick whose directory is gone: still fine.
    assert nodes.run("DELETE_BRICK", spec, keep[0]) == {"path": keep[0].path, "data_left": True}
    shutil.rmtree(purge.path)
    assert nodes.run("DELETE_BRICK", spec, purge, purge=True) == {"path": purge.path, "data_left": False}


def test_recovery_restarts_a_killed_brick_and_shd_from_local_metadata(nodes):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    before = nodes.run_all("START_BRICK", spec)
    nodes.set_state(spec, "Started", 3)
    ctx1, brick1 = nodes.ctxs[0], spec.bricks[0]
    old_brick, old_shd = before[0]["pid"], shd_pid(ctx1, spec)
    for pid in (old_brick, old_shd):  # a "reboot" of n1: its daemons die without cleanup
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: brick_pid(nodes, brick1) is None and shd_pid(ctx1, spec) is None, 10)
    assert layout_of(ctx1).brick_pidfile(brick1).exists()  # stale pid file left behind

    summary = recovery.recover(ctx1)
    new_pid = brick_pid(nodes, brick1)
    assert summary["started"] == [(brick1.id, new_pid)] and summary["failed"] == []
    assert new_pid and new_pid != old_brick
    assert port_accepts(brick1.address, brick1.port)
    assert shd_pid(ctx1, spec) not in (None, old_shd)
    # The other nodes' bricks kept running: found by pid file and left alone.
    for ctx, brick, data in zip(nodes.ctxs[1:], spec.bricks[1:], before[1:], strict=True):
        assert recovery.recover(ctx) == {"running": [brick.id], "started": [], "failed": []}
        assert brick_pid(nodes, brick) == data["pid"]


def test_recovery_starts_nothing_for_a_stopped_volume(nodes, tmp_path):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    nodes.run_all("START_BRICK", spec)
    os.kill(nodes.run("START_BRICK", spec, spec.bricks[0])["pid"], signal.SIGKILL)
    nodes.run_all("STOP_BRICK", spec)
    nodes.set_state(spec, "Stopped", 4)
    for ctx in nodes.ctxs:
        assert recovery.recover(ctx) == {"running": [], "started": [], "failed": []}
    assert processes_under(tmp_path) == []


def test_recovery_logs_a_failure_and_carries_on(nodes):
    spec = nodes.volume()
    nodes.run_all("CREATE_BRICK", spec)
    nodes.set_state(spec, "Started", 5)
    shutil.rmtree(spec.bricks[0].path)  # n1's device did not come back after the reboot
    summary = recovery.recover(nodes.ctxs[0])
    assert summary["started"] == [] and [b for b, _ in summary["failed"]] == [spec.bricks[0].id]
    assert not Path(spec.bricks[0].path).exists()  # never recreated on the wrong file system
    assert recovery.recover(nodes.ctxs[1])["started"][0][0] == spec.bricks[1].id
