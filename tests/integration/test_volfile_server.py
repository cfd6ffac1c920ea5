"""The volfile server: raw SunRPC checks of DUMP/GETSPEC/callbacks, then a real FUSE mount that
fetches its volfile from it and switches to a grown graph (2 -> 4 distribute bricks) after
notify_change(), on the same mount. Loopback addresses 127.0.30.1-4 play four nodes."""
import errno
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from cli import volfile_relay
from contracts.volume_spec import VolumeSpec
from nodeagent.client_volfiles import client_volfile_lookup
from nodeagent.context import AgentContext
from nodeagent.controlplane_client import ControlPlaneClient
from nodeagent.gluster.bricks import prepare_brick
from nodeagent.gluster.mount import fuse_mounted
from nodeagent.gluster.pids import wait_for
from nodeagent.gluster.processes import ProcessLayout, start_brick
from nodeagent.runner import Runner
from nodeagent.state_files import AgentState
from nodeagent.volfile_server import (
    CBK_FETCHSPEC,
    CBK_PROGRAM,
    CBK_VERSION,
    DUMP_PROGRAM,
    DUMP_VERSION,
    HNDSK_GETSPEC,
    HNDSK_PROGRAM,
    HNDSK_VERSION,
    PROC_UNAVAIL,
    PROG_UNAVAIL,
    SUCCESS,
    VolfileServer,
    XdrReader,
    read_record,
    record,
)
from tests.gluster_testbed import free_port, unmount_and_stop
from volgen import client_volfile

pytestmark = pytest.mark.integration

ADDRESSES = ["127.0.30.1", "127.0.30.2", "127.0.30.3", "127.0.30.4"]
SWITCH_WAIT = 60.0  # bound for polling, not a timing assertion


def _missing_for_gluster() -> str:
    if not (shutil.which("glusterfsd") and shutil.which("glusterfs")):
        return "glusterfsd/glusterfs are not installed"
    if os.geteuid() != 0:
        return "bricks (trusted.* xattrs) and FUSE mounts need root"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    return ""


needs_gluster = pytest.mark.skipif(bool(_missing_for_gluster()), reason=_missing_for_gluster() or "-")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="binding a privileged port needs root")


# --- a tiny RPC client -------------------------------------------------------------------------

def _opaque(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def privileged_socket(source: str = "0.0.0.0") -> socket.socket:
    """A TCP socket bound to a privileged port (root only), as the mount relay binds one."""
    for port in range(1023, 511, -1):
        s = socket.socket()
        try:
            s.bind((source, port))
            return s
        except OSError as exc:
            s.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, "no free privileged port")


class RawClient:
    """`privileged`: connect from a port below 1024 (root only); `source`: from that address."""

    def __init__(self, address: str, port: int, privileged: bool = False, source: str = "0.0.0.0"):
        if privileged or source != "0.0.0.0":
            self.sock = privileged_socket(source) if privileged else socket.socket()
            if not privileged:
                self.sock.bind((source, 0))
            self.sock.settimeout(5)
            self.sock.connect((address, port))
        else:
            self.sock = socket.create_connection((address, port), timeout=5)
        self.rfile = self.sock.makefile("rb")
        self.xid = 100

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()

    def call(self, prog: int, vers: int, proc: int, args: bytes = b"") -> tuple[int, XdrReader]:
        """Send a call with AUTH_GLUSTERFS-like opaque credentials (the server must skip them);
        return (accept_stat, reader positioned at the results)."""
        self.xid += 1
        cred = _opaque(b"\x00" * 28)  # any body: never interpreted
        head = b"".join(struct.pack(">I", v) for v in (self.xid, 0, 2, prog, vers, proc, 390039)) + cred
        head += struct.pack(">II", 0, 0)
        self.sock.sendall(record(head + args))
        msg = read_record(self.rfile)
        assert msg is not None, "server closed the connection"
        r = XdrReader(msg)
        assert (r.uint(), r.uint(), r.uint()) == (self.xid, 1, 0)  # xid, REPLY, MSG_ACCEPTED
        assert (r.uint(), r.opaque()) == (0, b"")  # AUTH_NULL verifier
        return r.uint(), r


def getspec_args(key: str) -> bytes:
    return struct.pack(">I", 0) + _opaque(key.encode()) + _opaque(b"")


@pytest.fixture
def served(tmp_path):
    volfiles = {"gvol1": "volume x\n    type debug/trace\nend-volume\n"}
    server = VolfileServer("127.0.30.1", lambda key, peer: volfiles.get(key), port=0)
    server.start()
    try:
        yield server, volfiles
    finally:
        server.stop()


def test_dump_lists_the_handshake_program(served):
    server, _ = served
    c = RawClient("127.0.30.1", server.port)
    try:
        stat, r = c.call(DUMP_PROGRAM, DUMP_VERSION, 1, struct.pack(">Q", 7))
        assert stat == SUCCESS
        assert (r.uhyper(), r.int32(), r.int32()) == (7, 0, 0)
        progs = []
        while r.uint():
            progs.append((r.string(), r.uhyper(), r.uhyper()))
        assert ("GlusterFS Handshake", HNDSK_PROGRAM, HNDSK_VERSION) in progs
        stat, r = c.call(DUMP_PROGRAM, DUMP_VERSION, 2)  # ping
        assert stat == SUCCESS and (r.int32(), r.int32(), r.opaque()) == (0, 0, b"")
        assert c.call(HNDSK_PROGRAM, HNDSK_VERSION, 0)[0] == SUCCESS  # NULL
    finally:
        c.close()


@needs_root
def test_getspec_answers_known_and_unknown_keys(served):
    server, volfiles = served
    c = RawClient("127.0.30.1", server.port, privileged=True)
    try:
        stat, r = c.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("gvol1"))
        spec = volfiles["gvol1"].encode()
        assert stat == SUCCESS
        assert (r.int32(), r.int32(), r.opaque(), r.opaque()) == (len(spec), 0, spec, b"")
        stat, r = c.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("nope"))
        assert stat == SUCCESS and (r.int32(), r.int32(), r.opaque()) == (-1, 2, b"")  # ENOENT
        assert c.call(HNDSK_PROGRAM, HNDSK_VERSION, 99)[0] == PROC_UNAVAIL
        assert c.call(4242, 1, 1)[0] == PROG_UNAVAIL
    finally:
        c.close()


@needs_root
def test_getspec_from_an_unprivileged_port_is_refused_and_logged(served, caplog):
    """Volfiles carry the volume's credentials: only root on the client machine (a privileged
    source port) gets one; anyone else gets EACCES, and the refusal is logged."""
    server, volfiles = served
    user, root = RawClient("127.0.30.1", server.port), RawClient("127.0.30.1", server.port, privileged=True)
    try:
        assert user.sock.getsockname()[1] >= 1024
        stat, r = user.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("gvol1"))
        assert stat == SUCCESS and (r.int32(), r.int32(), r.opaque()) == (-1, errno.EACCES, b"")
        assert "refused volfile 'gvol1'" in caplog.text and "not privileged" in caplog.text
        stat, r = root.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("gvol1"))
        assert stat == SUCCESS and r.int32() == len(volfiles["gvol1"])
    finally:
        user.close()
        root.close()


@needs_root
def test_agent_lookup_serves_a_volume_only_to_addresses_its_auth_allow_admits(tmp_path, caplog):
    """The agent's lookup (nodeagent.client_volfiles) on a real metadata copy: auth.allow and
    auth.reject decide which client addresses get the volfile with the credentials."""
    state = AgentState(tmp_path / "state")
    brick = {"id": str(uuid.uuid4()), "node_id": str(uuid.uuid4()), "node_name": "node1", "address": ADDRESSES[0],
             "port": 49152, "path": "/bricks/avol"}
    spec = VolumeSpec(id=str(uuid.uuid4()), name="avol", type="distribute", bricks=[brick],
                      auth_username=str(uuid.uuid4()), auth_password=str(uuid.uuid4()),
                      options={"auth.allow": "127.0.30.8,127.0.30.9", "auth.reject": "127.0.30.8"})
    state.save_metadata(3, {"volumes": [{"spec": spec.model_dump(), "state": "Started"}]})
    ctx = AgentContext(node_id=brick["node_id"], node_name="node1", address=ADDRESSES[0], secret="s",
                       state=state, client=ControlPlaneClient("http://127.0.0.1:9"))
    server = VolfileServer(ADDRESSES[0], client_volfile_lookup(ctx), port=0)
    server.start()
    answers = {}
    try:
        for source in ("127.0.30.9", "127.0.30.8", "127.0.30.7"):
            c = RawClient(ADDRESSES[0], server.port, privileged=True, source=source)
            try:
                stat, r = c.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("avol"))
                assert stat == SUCCESS
                answers[source] = (r.int32(), r.int32(), r.opaque().decode())
            finally:
                c.close()
    finally:
        server.stop()
    text = answers["127.0.30.9"][2]
    assert answers["127.0.30.9"][:2] == (len(text), 0) and f"option password {spec.auth_password}" in text
    assert answers["127.0.30.8"] == (-1, errno.EACCES, "")  # allowed, but rejected
    assert answers["127.0.30.7"] == (-1, errno.EACCES, "")  # not allowed
    assert "127.0.30.8 is in auth.reject" in caplog.text and "127.0.30.7 is not in auth.allow" in caplog.text


def test_notify_change_calls_back_and_malformed_input_drops_only_that_connection(served):
    server, _ = served
    good, bad = RawClient("127.0.30.1", server.port), RawClient("127.0.30.1", server.port)
    try:
        assert wait_for(lambda: server.connections() == 2, 5)
        bad.sock.sendall(struct.pack(">I", 0x80000000 | (1 << 20)))  # 1 MiB record: refused
        assert bad.rfile.read(1) == b""  # closed
        assert wait_for(lambda: server.connections() == 1, 5)
        assert server.notify_change() == 1
        msg = read_record(good.rfile)
        r = XdrReader(msg)
        r.uint()  # xid
        assert [r.uint() for _ in range(5)] == [0, 2, CBK_PROGRAM, CBK_VERSION, CBK_FETCHSPEC]
        assert good.call(HNDSK_PROGRAM, HNDSK_VERSION, 0)[0] == SUCCESS  # still served
    finally:
        good.close()
        bad.close()


# --- the real data path ------------------------------------------------------------------------

@needs_gluster
def test_mounted_client_switches_to_the_grown_graph_on_notify(tmp_path, monkeypatch):
    """Mounted as `kadalu mount` does it: glusterfs's management connection goes through the
    mount's volfile relay (a privileged source port); a plain `glusterfs -s` is refused."""
    run_dir = Path(tempfile.mkdtemp(prefix="kadalu-run-"))  # short: unix socket paths are limited
    monkeypatch.setattr(volfile_relay, "RUN_DIR", run_dir)
    runner, ports = Runner(), set()
    nodes = [{"id": str(uuid.uuid4()), "name": f"node{i + 1}", "address": a,
              "layout": ProcessLayout(tmp_path / f"node{i + 1}" / "state")} for i, a in enumerate(ADDRESSES)]
    vol_id, name = str(uuid.uuid4()), "gvol1"
    bricks = [{"id": str(uuid.uuid4()), "node_id": n["id"], "node_name": n["name"], "address": n["address"],
               "port": free_port(n["address"], ports), "path": str(tmp_path / n["name"] / "bricks" / f"{name}-b")}
              for n in nodes]
    spec2 = VolumeSpec(id=vol_id, name=name, type="distribute", bricks=bricks[:2])
    spec4 = VolumeSpec(id=vol_id, name=name, type="distribute", bricks=bricks)
    current = {name: client_volfile(spec2)}
    server = VolfileServer(ADDRESSES[0], lambda key, peer: current.get(key), port=free_port(ADDRESSES[0], ports))
    mnt, log = tmp_path / "client" / "mnt", tmp_path / "client" / "fuse.log"
    plain = tmp_path / "client" / "plain"
    pidfiles: list[Path] = []
    try:
        for node, brick, spec in zip(nodes, spec4.bricks, [spec2, spec2, spec4, spec4], strict=True):
            os.makedirs(os.path.dirname(brick.path), exist_ok=True)
            prepare_brick(brick.path, vol_id)
            pidfiles.append(node["layout"].brick_pidfile(brick))
            start_brick(node["layout"], spec, brick, node["id"], runner)
        server.start()

        plain.mkdir(parents=True)
        argv = ["glusterfs", "--process-name", "fuse", "-s", ADDRESSES[0], "--volfile-server-port",
                str(server.port), "--volfile-id", name, "-l", str(tmp_path / "client" / "plain.log"), str(plain)]
        subprocess.run(argv, capture_output=True, text=True, timeout=30)
        # its source port is not privileged: the fetch is refused and glusterfs gives up (fuse may be
        # mounted for a moment before the volfile fetch; it is gone once the process exits)
        plain_log = tmp_path / "client" / "plain.log"
        assert wait_for(lambda: plain_log.exists() and "failed to fetch volume file" in plain_log.read_text(), 10)
        assert wait_for(lambda: not fuse_mounted(str(plain)), 10)

        mnt.mkdir(parents=True)
        relay = volfile_relay.start(str(mnt), [ADDRESSES[0]], server.port, tmp_path / "client" / "relay.log")
        argv = ["glusterfs", "--process-name", "fuse", "-l", str(log), "-s", str(relay["socket"]),
                "--volfile-server-transport", "unix", "--volfile-id", name, "-p", str(relay["client_pid"]), str(mnt)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert wait_for(lambda: fuse_mounted(str(mnt)), 20), log.read_text() if log.exists() else "no log"
        assert wait_for(lambda: server.connections() == 1, 10)  # the client keeps the mgmt connection

        old = {f"old-{i:02d}": os.urandom(1024) for i in range(20)}
        for fname, data in old.items():
            (mnt / fname).write_bytes(data)
        old_bricks = {b.id for b in spec4.bricks[:2] for f in old if (Path(b.path) / f).exists()}
        assert old_bricks == {b.id for b in spec4.bricks[:2]}

        current[name] = client_volfile(spec4)
        assert server.notify_change() == 1

        def switched() -> bool:
            os.stat(mnt)  # fuse moves to a new graph on the next operation
            text = log.read_text()
            if "Volume file changed" not in text:
                return False
            after = text.split("Volume file changed", 1)[1]  # the refetched graph, then fuse's switch
            return "switched to graph" in after and all(f"{name}-client-{i}" in after for i in (2, 3))

        assert wait_for(switched, SWITCH_WAIT, interval=0.5), log.read_text()[-4000:]

        # A directory made under the new graph gets a layout over all four subvolumes.
        (mnt / "after").mkdir()
        new = {f"after/new-{i:02d}": os.urandom(1024) for i in range(40)}
        for fname, data in new.items():
            (mnt / fname).write_bytes(data)
        holders = {}
        for fname in new:
            found = [i for i, b in enumerate(spec4.bricks) if (Path(b.path) / fname).exists()]
            assert len(found) == 1, (fname, found)
            holders[fname] = found[0]
        assert {2, 3} & set(holders.values()), holders
        for fname, data in {**old, **new}.items():
            assert (mnt / fname).read_bytes() == data
        assert server.connections() == 1  # same mount, same management connection
    finally:
        try:
            unmount_and_stop([m for m in (mnt, plain) if fuse_mounted(str(m))], pidfiles, runner)
        finally:
            volfile_relay.stop(str(mnt))
            server.stop()
            shutil.rmtree(run_dir, ignore_errors=True)
    assert not fuse_mounted(str(mnt)) and not list(run_dir.glob("*/relay.pid"))


@needs_gluster
def test_brick_fetches_its_volfile_signs_in_and_reconfigures_live(tmp_path):
    """glusterfsd started with -s: GETSPEC, portmap SIGNIN (its parent exits 1 if that fails),
    then an option change applied by notify_change() without a restart; after the server
    restarts (an agent restart) the brick reconnects by itself."""
    from nodeagent.gluster.pids import running_pid, stop_pid
    from nodeagent.gluster.processes import brick_volfile_id
    from volgen import brick_volfile

    ports, address, node_id = set(), ADDRESSES[1], str(uuid.uuid4())
    brick = {"id": str(uuid.uuid4()), "node_id": node_id, "node_name": "node2", "address": address,
             "port": free_port(address, ports), "path": str(tmp_path / "bricks" / "bvol-b")}
    spec = VolumeSpec(id=str(uuid.uuid4()), name="bvol", type="distribute", bricks=[brick])
    (tmp_path / "bricks").mkdir()
    prepare_brick(brick["path"], spec.id)
    key = brick_volfile_id(spec, spec.bricks[0])
    current = {key: brick_volfile(spec, spec.bricks[0], node_id)}
    port = free_port(address, ports)
    # glusterfsd's management connection never binds a privileged port, so the default check
    # would refuse it: agents serve brick volfiles (they hold the volume's credentials) on a
    # root-only unix socket instead (nodeagent/local_volfiles.py, tested below); this checks TCP.
    any_peer = {"peer_check": lambda address, port: None}
    server = VolfileServer(address, lambda key, peer: current.get(key), port=port, **any_peer)
    pidfile, log = tmp_path / "brick.pid", tmp_path / "brick.log"
    try:
        server.start()
        argv = ["glusterfsd", "-s", address, "--volfile-server-port", str(port), "--volfile-id", key,
                "-p", str(pidfile), "-l", str(log), "--brick-name", brick["path"],
                "--brick-port", str(brick["port"]), "--process-name", "brick"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr + (log.read_text() if log.exists() else "")
        pid = running_pid(pidfile, "glusterfsd")
        assert pid

        c = RawClient(address, port)
        try:  # PORTBYBRICK answers from the brick's sign-in
            stat, r = c.call(34123456, 1, 1, _opaque(brick["path"].encode()))
            assert stat == SUCCESS and (r.int32(), r.int32(), r.int32(), r.int32()) == (0, 0, 1, brick["port"])
        finally:
            c.close()

        changed = spec.model_copy(update={"options": {"performance.io-thread-count": "37"}})
        current[key] = brick_volfile(changed, changed.bricks[0], node_id)
        # the probe client above is closed; wait until the server has let go of it too
        assert wait_for(lambda: server.connections() == 1, 5)
        assert server.notify_change() == 1
        # reconfigured in place (the "reconfigure done" line itself is only logged at DEBUG)
        assert wait_for(lambda: "thread-count using set value 37" in log.read_text(), SWITCH_WAIT, interval=0.5), \
            log.read_text()[-3000:]
        assert log.read_text().count("Final graph") == 1  # no new graph was built
        assert running_pid(pidfile, "glusterfsd") == pid  # no restart

        server.stop()
        server = VolfileServer(address, lambda key, peer: current.get(key), port=port, **any_peer)
        server.start()
        assert wait_for(lambda: server.connections() == 1, SWITCH_WAIT, interval=0.5)
    finally:
        try:
            stop_pid(pidfile, timeout=5)
        finally:
            server.stop()


class UnixClient(RawClient):
    """RawClient over a unix socket (the agent's local volfile server)."""

    def __init__(self, path: str):  # noqa: D107  (no super(): a different socket family)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("rb")
        self.xid = 100


@needs_root
def test_local_server_serves_brick_volfiles_to_root_only_from_the_served_files(tmp_path):
    """Brick volfiles hold the volume's credentials: the unix socket is 0600 in a 0700 directory,
    a non-root peer (SO_PEERCRED) gets EACCES, and keys are looked up by hash, never as a path."""
    from nodeagent.gluster.processes import ProcessLayout, write_atomic
    from nodeagent.local_volfiles import served_volfile_lookup

    layout = ProcessLayout(tmp_path / "state")
    write_atomic(layout.served_volfile("v.node1.b"), "volume x\n    type debug/trace\nend-volume\n")
    top = tempfile.mkdtemp(prefix="kadalu-vfs-")  # pytest's tmp_path is closed to other users
    os.chmod(top, 0o755)
    run = Path(top) / "run"
    path = str(run / "volfile.socket")
    server = VolfileServer("", served_volfile_lookup(tmp_path / "state"), unix_path=path)
    server.start()
    try:
        assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(run).st_mode & 0o777 == 0o700
        c = UnixClient(path)
        try:
            stat, r = c.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("v.node1.b"))
            assert stat == SUCCESS and r.int32() > 0
            for key in ("../../etc/passwd", "v.node1.c", "/" + str(layout.served_volfile("v.node1.b"))):
                stat, r = c.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args(key))
                assert (r.int32(), r.int32()) == (-1, errno.ENOENT)
        finally:
            c.close()
        os.chmod(run, 0o755)  # let the unprivileged child reach the socket at all
        os.chmod(path, 0o666)
        child = os.fork()
        if child == 0:  # a non-root process of this machine
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                u = UnixClient(path)
                stat, r = u.call(HNDSK_PROGRAM, HNDSK_VERSION, HNDSK_GETSPEC, getspec_args("v.node1.b"))
                code = 0 if (stat, r.int32(), r.int32()) == (SUCCESS, -1, errno.EACCES) else 3
            finally:
                os._exit(code)
        assert os.waitpid(child, 0)[1] == 0
    finally:
        server.stop()
        shutil.rmtree(top, ignore_errors=True)
    assert not os.path.exists(path)
