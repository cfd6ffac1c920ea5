"""Brick daemons (glusterfsd) and self-heal daemons (glusterfs --process-name shd), started
from volfiles we generate, with no glusterd.

Both fork into the background and outlive the agent: the pid files are the record of what
runs, so an agent restarted from its local metadata finds its daemons again.

Where a brick or a self-heal daemon gets its graph: from the agent's volfile server on its root-only unix socket
(`-s <socket> --volfile-server-transport unix --volfile-id <key>`), which serves the "served
volfile" of that key (`ProcessLayout.served_volfile`): a daemon started that way keeps a
management connection and applies a new volfile in place when the agent notifies it (see
nodeagent/live_graphs.py). When no volfile server answers (an agent started with
`--recover-only`, or its server could not start), the daemon is started from the same file with
`-f`: the latest graph this node served, which it then keeps until it is restarted."""
import errno
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.pids import cmdline, is_gluster_process, running_pid, stop_pid, wait_for
from nodeagent.gluster.shared_bricks import shared_brick_count
from nodeagent.runner import Runner
from volgen import brick_volfile, shd_volfile

__all__ = ["ProcessLayout", "start_brick", "stop_brick", "brick_status", "start_shd", "stop_shd", "stop_pid"]


@dataclass(frozen=True)
class ProcessLayout:
    """Where volfiles, pid files and logs live under the agent's state directory. `volfile_socket`:
    the agent's local volfile server, when it runs (daemons then start from it)."""

    state_dir: Path
    volfile_socket: str | None = None

    def volfile_dir(self, spec: VolumeSpec) -> Path:
        return Path(self.state_dir) / "volfiles" / spec.name

    def served_volfile(self, key: str) -> Path:
        """The volfile served for --volfile-id `key` (named by its hash: keys come off the wire)."""
        return Path(self.state_dir) / "volfiles" / "served" / f"{hashlib.sha256(key.encode()).hexdigest()}.vol"

    def brick_volfile(self, spec: VolumeSpec, brick: BrickSpec) -> Path:
        return self.served_volfile(brick_volfile_id(spec, brick))

    def legacy_brick_volfile(self, spec: VolumeSpec, brick: BrickSpec) -> Path:
        """Where agents before the volfile server kept a brick's -f volfile (removed with the brick)."""
        return self.volfile_dir(spec) / f"{brick.id}.vol"

    def brick_socket(self, brick: BrickSpec) -> Path:
        """The brick's brick-op socket (glusterfsd -S: the snapshot barrier). A unix socket path has at
        most 107 bytes: past that, a root-only directory under /run, named by a hash."""
        path = Path(self.state_dir) / "run" / f"{brick.id}.socket"
        if len(str(path)) <= 100:
            return path
        digest = hashlib.sha256(f"{Path(self.state_dir).resolve()}:{brick.id}".encode()).hexdigest()[:32]
        return Path("/run/kadalu-bricks") / f"{digest}.socket"

    def brick_pidfile(self, brick: BrickSpec) -> Path:
        return Path(self.state_dir) / "run" / f"{brick.id}.pid"

    def brick_log(self, brick: BrickSpec) -> Path:
        return Path(self.state_dir) / "logs" / "bricks" / f"{brick.id}.log"

    def shd_volfile(self, spec: VolumeSpec) -> Path:
        return self.served_volfile(shd_volfile_id(spec))

    def shd_pidfile(self, spec: VolumeSpec) -> Path:
        return Path(self.state_dir) / "run" / f"shd-{spec.name}.pid"

    def shd_log(self, spec: VolumeSpec) -> Path:
        return Path(self.state_dir) / "logs" / "glustershd" / f"{spec.name}.log"


def write_atomic(path: Path, text: str) -> None:
    """Temp file, fsync, rename: a daemon starting concurrently never reads half a volfile.
    Mode 0600: volfiles hold the volume's client credentials (see volgen.brick)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover temp file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _prepare_dirs(*files: Path) -> None:
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)


def _prepare_socket_dir(sock: Path) -> None:
    sock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sock.unlink(missing_ok=True)  # a dead brick's: glusterfsd cannot bind over it


def port_accepts(address: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_port_free(address: str, port: int, brick: BrickSpec) -> None:
    """Fail before starting when the port is visibly taken: a clearer error than a log line.

    SO_REUSEADDR as glusterfsd sets it, so only a listener (not TIME_WAIT leftovers) counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AgentError("port_in_use", f"port {port} on {address} is taken; brick {brick.path} cannot listen",
                                 f"find the holder with `ss -ltnp 'sport = :{port}'`; stop it or give the brick "
                                 "another port", errno.EADDRINUSE) from exc
            if exc.errno == errno.EADDRNOTAVAIL:
                raise AgentError("address_not_local", f"address {address} is not configured on this node",
                                 "the node's storage address must be one of its own IP addresses (see `ip addr`)",
                                 errno.EADDRNOTAVAIL) from exc
            raise


def brick_volfile_id(spec: VolumeSpec, brick: BrickSpec) -> str:
    """glusterd's naming, <vol>.<node>.<path with / as ->: it shows in `ps` and in the logs."""
    return f"{spec.name}.{brick.node_name}.{brick.path.strip('/').replace('/', '-')}"


def shd_volfile_id(spec: VolumeSpec) -> str:
    return f"shd/{spec.name}"


def unix_socket_answers(path: str | None) -> bool:
    if not path:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(path)
            return True
    except OSError:
        return False


def graph_source(layout: ProcessLayout, key: str, volfile: Path) -> list[str]:
    """Where a daemon reads its graph: the agent's volfile server if it answers, else the file."""
    if layout.volfile_socket and unix_socket_answers(layout.volfile_socket):
        return ["-s", layout.volfile_socket, "--volfile-server-transport", "unix", "--volfile-id", key]
    return ["--volfile-id", key, "-f", str(volfile)]


def follows_volfile_server(pid: int) -> bool:
    """Whether a running daemon was started from a volfile server (so it can reconfigure live)."""
    return "--volfile-server-transport" in cmdline(pid)


def brick_volfile_text(spec: VolumeSpec, brick: BrickSpec, node_uuid: str) -> str:
    """The graph this node serves `brick`: the one place both a start and a live change build it.
    shared-brick-count comes from the node's filesystems (nodeagent/gluster/shared_bricks.py)."""
    return brick_volfile(spec, brick, node_uuid, shared_brick_count(spec, brick))


def brick_argv(layout: ProcessLayout, spec: VolumeSpec, brick: BrickSpec) -> list[str]:
    return [
        "glusterfsd",
        *graph_source(layout, brick_volfile_id(spec, brick), layout.brick_volfile(spec, brick)),
        "-p", str(layout.brick_pidfile(brick)),
        "-l", str(layout.brick_log(brick)),
        "--brick-name", brick.path,
        "--brick-port", str(brick.port),
        "--process-name", "brick",
        # glusterd's brick-op socket: the snapshot barrier is asked for on it (nodeagent/snapshots/barrier_rpc.py)
        "-S", str(layout.brick_socket(brick)),
    ]


def start_brick(layout: ProcessLayout, spec: VolumeSpec, brick: BrickSpec, node_uuid: str, runner: Runner,
                timeout: float = 20.0) -> int:
    """Start (or find running) the brick daemon of `brick`; return its pid once its port accepts.

    A brick already running is left alone, its served volfile too (changes to a running brick go
    through nodeagent/live_graphs.py); otherwise its served volfile is written, then it starts."""
    volfile, pidfile, log = layout.brick_volfile(spec, brick), layout.brick_pidfile(brick), layout.brick_log(brick)
    pid = running_pid(pidfile, "glusterfsd")
    if pid:
        return pid
    write_atomic(volfile, brick_volfile_text(spec, brick, node_uuid))
    _prepare_dirs(pidfile, log)
    _prepare_socket_dir(layout.brick_socket(brick))
    pidfile.unlink(missing_ok=True)  # stale (checked above)
    _check_port_free(brick.address, brick.port, brick)
    offset = log_size(log)
    what = f"brick {brick.node_name}:{brick.path}"
    done = runner.run(brick_argv(layout, spec, brick), timeout=timeout)
    if done.returncode != 0:
        # The forked daemon may have written its pid file and still be tearing down: the pid
        # file was cleared above, so whatever it names now is this failed start's; end it.
        stop_pid(pidfile)
        raise failure(what, log, offset, f"glusterfsd exited with {done.returncode}: {done.stderr.strip()}")
    # glusterfsd's parent exits only after the daemon wrote its pid file and built its graph,
    # so the pid is known here; the wait covers a slow listener, and ends if the daemon dies.
    pid = running_pid(pidfile, "glusterfsd")
    if pid is None:
        raise failure(what, log, offset, "the daemon exited right after starting")
    # glusterfsd listens a few ms after its parent returns: a short poll keeps a start from waiting
    # a whole 0.1 s interval for it
    wait_for(lambda: not is_gluster_process(pid, pidfile) or port_accepts(brick.address, brick.port), timeout,
             interval=0.005)
    if is_gluster_process(pid, pidfile) and port_accepts(brick.address, brick.port):
        return pid
    stop_pid(pidfile)  # a brick that never came up must not linger half-started
    raise failure(what, log, offset, f"not listening on {brick.address}:{brick.port} within {timeout:g} s")


def stop_brick(layout: ProcessLayout, brick: BrickSpec, timeout: float = 10.0) -> bool:
    return stop_pid(layout.brick_pidfile(brick), timeout)


def brick_status(layout: ProcessLayout, brick: BrickSpec) -> dict:
    """pid: the running brick daemon or None; online: it accepts connections on its port."""
    pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
    return {"pid": pid, "port": brick.port, "online": bool(pid) and port_accepts(brick.address, brick.port)}


# Not "glustershd": glusterfs 10.3 takes that name for its multiplexed daemon, which attaches each
# fetched volfile as one more graph and wants glusterd's attach data with it (a "pidfile" in the
# GETSPEC reply: without it, "glusterfs_update_mux_pid ... invalid argument"), and was seen ignoring
# SIGTERM for 10 s. Under any other name a self-heal daemon fetches and reconfigures in place
# exactly as a brick or a client does (glusterfsd-mgmt.c, mgmt_getspec_cbk): one volume, one graph.
SHD_PROCESS_NAME = "shd"


def shd_argv(layout: ProcessLayout, spec: VolumeSpec, node_uuid: str) -> list[str]:
    argv = [
        "glusterfs", "--process-name", SHD_PROCESS_NAME,
        *graph_source(layout, shd_volfile_id(spec), layout.shd_volfile(spec)),
        "-p", str(layout.shd_pidfile(spec)),
        "-l", str(layout.shd_log(spec)),
    ]
    if spec.type in ("replicate", "arbiter"):
        # As glusterd passes it (afr has the option; disperse does not). Which bricks a daemon
        # crawls is not decided by it in 10.3 but by the bricks' host names (see volgen.shd).
        argv += ["--xlator-option", f"*replicate*.node-uuid={node_uuid}"]
    return argv


def start_shd(layout: ProcessLayout, spec: VolumeSpec, node_uuid: str, runner: Runner, timeout: float = 20.0) -> int:
    """Start (or find running) this node's self-heal daemon for `spec`; return its pid. A running
    one is left alone (nodeagent/live_graphs.py applies changes to it, in place or by a restart).

    There is no port to wait for: it connects to the bricks itself and heals once they are up."""
    pidfile, log = layout.shd_pidfile(spec), layout.shd_log(spec)
    pid = running_pid(pidfile, "glusterfs")
    if pid:
        return pid
    write_atomic(layout.shd_volfile(spec), shd_volfile(spec))
    _prepare_dirs(pidfile, log)
    pidfile.unlink(missing_ok=True)
    offset = log_size(log)
    what = f"self-heal daemon of volume {spec.name}"
    done = runner.run(shd_argv(layout, spec, node_uuid), timeout=timeout)
    if done.returncode != 0:
        stop_pid(pidfile)  # as for bricks: a half-started daemon must not linger
        raise failure(what, log, offset, f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")
    pid = running_pid(pidfile, "glusterfs")  # written before the parent process returned
    if pid is None:
        raise failure(what, log, offset, "the daemon exited right after starting")
    return pid


def stop_shd(layout: ProcessLayout, spec: VolumeSpec, timeout: float = 10.0) -> bool:
    return stop_pid(layout.shd_pidfile(spec), timeout)
