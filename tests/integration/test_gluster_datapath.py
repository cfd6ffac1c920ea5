"""Real GlusterFS data path without glusterd: brick directories, glusterfsd bricks bound to their
node's address (127.0.1.1-3 play three nodes), FUSE mounts from our client volfiles, and the
self-heal daemon. Every daemon is stopped by its pid file and every mount unmounted in teardown."""
import os
import shutil
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from contracts.volume_spec import VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR, cleanup_brick, prepare_brick
from nodeagent.gluster.mount import fuse_mounted, mount
from nodeagent.gluster.pids import running_pid, stop_pid, wait_for
from nodeagent.gluster.processes import ProcessLayout, brick_status, start_brick, start_shd, write_atomic
from nodeagent.runner import Runner
from tests.gluster_testbed import spread_volume, unmount_and_stop
from volgen import client_volfile

pytestmark = pytest.mark.integration



def _missing_for_gluster() -> str:
    if not (shutil.which("glusterfsd") and shutil.which("glusterfs")):
        return "glusterfsd/glusterfs are not installed (Debian: apt install glusterfs-server glusterfs-client)"
    if os.geteuid() != 0:
        return "bricks (trusted.* xattrs) and FUSE mounts need root"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing (modprobe fuse)"
    return ""


needs_gluster = pytest.mark.skipif(bool(_missing_for_gluster()), reason=_missing_for_gluster() or "-")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="trusted.* xattrs need root")

ADDRESSES = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
HEAL_WAIT = 60.0  # bound for polling, not a timing assertion




class DataPath:
    """Three "nodes" on loopback addresses, each with its own agent state dir and node uuid.
    Remembers every pid file and mount it creates so teardown can undo them."""

    def __init__(self, root: Path):
        self.root, self.runner = root, Runner()
        self.nodes = [{"id": str(uuid.uuid4()), "name": f"node{i + 1}", "address": a,
                       "layout": ProcessLayout(root / f"node{i + 1}" / "state")} for i, a in enumerate(ADDRESSES)]
        self.pidfiles: list[Path] = []
        self.mounts: list[Path] = []
        self.ports: set[int] = set()

    def node_of(self, brick) -> dict:
        return next(n for n in self.nodes if n["id"] == brick.node_id)

    def volume(self, name: str, type_: str, bricks: int, **counts) -> VolumeSpec:
        return spread_volume(self.root, self.nodes, self.ports, name, type_, bricks, **counts)

    def start_brick(self, spec: VolumeSpec, brick) -> int:
        node = self.node_of(brick)
        self.pidfiles.append(node["layout"].brick_pidfile(brick))
        return start_brick(node["layout"], spec, brick, node["id"], self.runner)

    def start(self, spec: VolumeSpec) -> None:
        for brick in spec.bricks:
            os.makedirs(os.path.dirname(brick.path), exist_ok=True)
            prepare_brick(brick.path, spec.id)
            self.start_brick(spec, brick)

    def start_shd(self, spec: VolumeSpec, node: dict) -> int:
        self.pidfiles.append(node["layout"].shd_pidfile(spec))
        return start_shd(node["layout"], spec, node["id"], self.runner)

    def mount(self, spec: VolumeSpec) -> Path:
        client = self.root / "client"
        volfile, mountpoint = client / f"{spec.name}.vol", client / "mnt" / spec.name
        write_atomic(volfile, client_volfile(spec))
        mountpoint.mkdir(parents=True)
        self.mounts.append(mountpoint)
        mount(str(volfile), spec.name, str(mountpoint), str(client / f"{spec.name}.log"), self.runner)
        return mountpoint

    def teardown(self) -> None:
        unmount_and_stop(self.mounts, self.pidfiles, self.runner)


@pytest.fixture
def datapath(tmp_path):
    dp = DataPath(tmp_path)
    try:
        yield dp
    finally:
        dp.teardown()
    assert not any(fuse_mounted(str(m)) for m in dp.mounts)


def write_files(mnt: Path, names, size: int = 4096) -> dict[str, bytes]:
    data = {}
    for name in names:
        data[name] = os.urandom(size)
        (mnt / name).write_bytes(data[name])
    return data


def on_brick(brick, name: str) -> Path:
    return Path(brick.path) / name


@needs_gluster
def test_replicate3_stores_every_file_on_all_three_bricks(datapath):
    spec = datapath.volume("rep3", "replicate", 3, replica_count=3)
    datapath.start(spec)
    listeners = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    for brick in spec.bricks:
        assert f"{brick.address}:{brick.port} " in listeners  # bound to its own node address only
        assert brick_status(datapath.node_of(brick)["layout"], brick)["online"]
    first_pid = brick_status(datapath.nodes[0]["layout"], spec.bricks[0])["pid"]
    assert datapath.start_brick(spec, spec.bricks[0]) == first_pid  # idempotent

    mnt = datapath.mount(spec)
    data = write_files(mnt, [f"f{i}" for i in range(5)])
    for name, content in data.items():
        assert (mnt / name).read_bytes() == content
        for brick in spec.bricks:
            assert on_brick(brick, name).read_bytes() == content


@needs_gluster
def test_distribute_places_each_file_on_exactly_one_brick(datapath):
    spec = datapath.volume("dist", "distribute", 2)
    datapath.start(spec)
    mnt = datapath.mount(spec)
    data = write_files(mnt, [f"file-{i:02d}" for i in range(20)])
    used = set()
    for name, content in data.items():
        holders = [b for b in spec.bricks if on_brick(b, name).exists()]
        assert len(holders) == 1, f"{name} is on {len(holders)} bricks"
        assert on_brick(holders[0], name).read_bytes() == content
        used.add(holders[0].id)
    assert used == {b.id for b in spec.bricks}


@needs_gluster
def test_disperse_writes_a_fragment_to_every_brick(datapath):
    spec = datapath.volume("disp", "disperse", 3, disperse_count=3, redundancy_count=1)
    datapath.start(spec)
    mnt = datapath.mount(spec)
    data = write_files(mnt, ["a", "b"], size=64 * 1024)
    for name, content in data.items():
        assert (mnt / name).read_bytes() == content
        for brick in spec.bricks:
            fragment = on_brick(brick, name)
            assert {"trusted.ec.size", "trusted.ec.version", "trusted.ec.config"} <= set(os.listxattr(fragment))
            # 2 data + 1 redundancy: each brick holds half the data, not a copy of it
            assert fragment.stat().st_size == len(content) // 2


@needs_gluster
def test_arbiter_keeps_data_on_two_bricks_and_only_names_on_the_arbiter(datapath):
    spec = datapath.volume("arb", "arbiter", 3, replica_count=3, arbiter_count=1)
    datapath.start(spec)
    mnt = datapath.mount(spec)
    data = write_files(mnt, ["x", "y"])
    data_bricks, arbiter = spec.bricks[:2], spec.bricks[2]
    for name, content in data.items():
        for brick in data_bricks:
            assert on_brick(brick, name).read_bytes() == content
        assert on_brick(arbiter, name).exists()
        assert on_brick(arbiter, name).stat().st_size == 0


@needs_gluster
def test_killed_replica_brick_is_healed_by_the_self_heal_daemon(datapath):
    spec = datapath.volume("heal", "replicate", 3, replica_count=3)
    datapath.start(spec)
    mnt = datapath.mount(spec)
    write_files(mnt, ["before"])
    victim = spec.bricks[2]
    victim_layout = datapath.node_of(victim)["layout"]
    os.kill(brick_status(victim_layout, victim)["pid"], signal.SIGKILL)
    assert wait_for(lambda: not brick_status(victim_layout, victim)["online"], 10)

    missed = write_files(mnt, ["missed-1", "missed-2"])
    with open(mnt / "before", "ab") as f:
        f.write(b"appended while a brick was down")
    before = (mnt / "before").read_bytes()
    assert not on_brick(victim, "missed-1").exists()

    datapath.start_brick(spec, victim)
    for node in datapath.nodes:  # one daemon per volume per node, as agents run them
        pid = datapath.start_shd(spec, node)
        assert f"*replicate*.node-uuid={node['id']}" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()

    def healed() -> bool:
        try:
            return (all(on_brick(victim, n).read_bytes() == c for n, c in missed.items())
                    and on_brick(victim, "before").read_bytes() == before)
        except FileNotFoundError:
            return False

    assert wait_for(healed, HEAL_WAIT, interval=0.5), "the restarted brick was not healed"


@needs_gluster
def test_start_brick_reports_a_taken_port(datapath):
    spec = datapath.volume("busy", "distribute", 1)
    brick = spec.bricks[0]
    os.makedirs(os.path.dirname(brick.path))
    prepare_brick(brick.path, spec.id)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((brick.address, brick.port))
        holder.listen()
        with pytest.raises(AgentError) as err:
            datapath.start_brick(spec, brick)
    assert (err.value.code, err.value.errno) == ("port_in_use", "EADDRINUSE")
    assert brick_status(datapath.node_of(brick)["layout"], brick)["pid"] is None


@needs_gluster
def test_start_brick_failure_carries_the_brick_log(datapath):
    spec = datapath.volume("unprep", "distribute", 1)
    os.makedirs(spec.bricks[0].path)  # no volume-id, no .glusterfs: never prepared
    with pytest.raises(AgentError) as err:
        datapath.start_brick(spec, spec.bricks[0])
    assert err.value.code == "brick_not_prepared"
    assert "last lines of" in err.value.message and "index" in err.value.message


def test_stop_pid_never_signals_a_process_that_is_not_its_gluster_daemon(tmp_path):
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        pidfile = tmp_path / "brick.pid"
        pidfile.write_text(f"{stranger.pid}\n")
        assert running_pid(pidfile) is None
        assert stop_pid(pidfile, timeout=1) is False
        assert stranger.poll() is None  # still running
        assert not pidfile.exists()  # the stale file is gone
    finally:
        stranger.kill()
        stranger.wait()


@needs_root
def test_prepare_brick_marks_the_directory_and_is_idempotent(tmp_path):
    volume_id = str(uuid.uuid4())
    brick = tmp_path / "b"
    prepare_brick(str(brick), volume_id)
    (brick / "keep").write_text("data")
    prepare_brick(str(brick), volume_id)
    assert os.getxattr(brick, VOLUME_ID_XATTR) == uuid.UUID(volume_id).bytes
    assert (brick / ".glusterfs" / "indices").is_dir()
    assert (brick / "keep").read_text() == "data"


@needs_root
def test_prepare_brick_refuses_a_brick_of_another_volume_and_a_missing_parent(tmp_path):
    brick = tmp_path / "b"
    prepare_brick(str(brick), str(uuid.uuid4()))
    with pytest.raises(AgentError) as err:
        prepare_brick(str(brick), str(uuid.uuid4()))
    assert (err.value.code, err.value.errno) == ("stale_brick", "EEXIST")
    assert f"setfattr -x {VOLUME_ID_XATTR} {brick}" in err.value.hint
    with pytest.raises(AgentError) as err:
        prepare_brick(str(tmp_path / "no-device" / "b"), str(uuid.uuid4()))
    assert (err.value.code, err.value.errno) == ("not_found", "ENOENT")


@needs_root
def test_cleanup_brick_unmarks_and_purges_only_its_own_volume(tmp_path):
    volume_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    brick = tmp_path / "b"
    prepare_brick(str(brick), volume_id)
    (brick / "dir").mkdir()
    (brick / "dir" / "f").write_text("x")
    os.setxattr(brick, "trusted.kadalu.device-id", b"dev-1")  # not gluster's: must survive
    with pytest.raises(AgentError) as err:
        cleanup_brick(str(brick), other, purge=True)
    assert err.value.code == "brick_in_use" and (brick / "dir" / "f").exists()

    cleanup_brick(str(brick), volume_id, purge=False)
    assert VOLUME_ID_XATTR not in os.listxattr(brick)
    assert not (brick / ".glusterfs").exists() and (brick / "dir" / "f").exists()
    assert os.getxattr(brick, "trusted.kadalu.device-id") == b"dev-1"
    with pytest.raises(AgentError) as err:  # no longer marked: its files are not proven to be the volume's
        cleanup_brick(str(brick), volume_id, purge=True)
    assert err.value.code == "purge_refused" and (brick / "dir" / "f").exists()
    with pytest.raises(AgentError) as err:  # files and no volume id: not taken over unless forced
        prepare_brick(str(brick), other)
    assert err.value.code == "not_empty"
    prepare_brick(str(brick), other, force=True)  # reusable by another volume, files and all, when forced
    cleanup_brick(str(brick), other, purge=True)
    assert list(brick.iterdir()) == [] and os.getxattr(brick, "trusted.kadalu.device-id") == b"dev-1"


@needs_gluster
def test_df_counts_a_filesystem_shared_by_several_bricks_once(datapath):
    """Three bricks of a distribute volume on one node's one filesystem: each posix divides its
    statfs by shared-brick-count 3 (computed by the agent), so distribute's sum is the filesystem
    once, as under glusterd; without it the mount showed three times the disk."""
    one = datapath.nodes[0]
    spec = spread_volume(datapath.root, [one, one, one], datapath.ports, "shared", "distribute", 3)
    datapath.start(spec)
    mnt = datapath.mount(spec)
    disk, seen = os.statvfs(spec.bricks[0].path), os.statvfs(mnt)
    disk_bytes, seen_bytes = disk.f_blocks * disk.f_frsize, seen.f_blocks * seen.f_frsize
    assert 0.9 * disk_bytes <= seen_bytes <= 1.1 * disk_bytes, (disk_bytes, seen_bytes)
