"""A per-mount relay between the glusterfs FUSE client and the node agents' volfile servers.

Why: a client volfile carries the volume's credentials, so the agents' volfile servers hand it
only to root on an allowed machine, which they recognise by a privileged source port (below
1024: only root can bind one). The glusterfs 10.3 client cannot show that: its management
connection binds a port between 1024 and 49151 like any user's process. So `kadalu mount` (run as
root) starts this relay, which listens on a unix socket in a root-only directory and, for each
connection glusterfs makes to it (`--volfile-server-transport unix -s <socket>`), opens one to a
volfile server from a privileged port and copies bytes both ways. The mount keeps its management
connection, so it still follows volume changes (FETCHSPEC callbacks pass through).

The relay ends when the glusterfs process of the mount has gone (its pid file names a process
that is no longer glusterfs), when no glusterfs ever showed up, or on SIGTERM (`kadalu umount`).
Run as `python -m cli.volfile_relay --socket S --pid-file P --client-pid-file G --server A ...
--port N`; `start()` / `stop()` below are what `kadalu mount` / `kadalu umount` call.
"""
from __future__ import annotations

import argparse
import errno
import hashlib
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger("kadalu-volfile-relay")

PRIVILEGED_PORTS = range(1023, 511, -1)  # bindresvport's range, highest first
CONNECT_TIMEOUT = 5.0
CHECK_EVERY = 2.0
FIRST_CLIENT_WITHIN = 120.0  # seconds for glusterfs to write its pid file after the relay starts


def connect_privileged(servers: list[str], port: int) -> socket.socket:
    """A TCP connection to the first volfile server that answers, from a privileged port."""
    last: OSError | None = None
    for server in servers:
        for family, _, _, _, addr in socket.getaddrinfo(server, port, type=socket.SOCK_STREAM):
            for local in PRIVILEGED_PORTS:
                s = socket.socket(family, socket.SOCK_STREAM)
                try:
                    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", local))
                except OSError as exc:
                    s.close()
                    if exc.errno == errno.EADDRINUSE:
                        continue
                    raise  # EACCES: not root
                s.settimeout(CONNECT_TIMEOUT)
                try:
                    s.connect(addr)
                except OSError as exc:
                    s.close()
                    if exc.errno == errno.EADDRNOTAVAIL:  # this port's 4-tuple is taken: next port
                        continue
                    last = exc
                    break  # this address does not answer: next one
                s.settimeout(None)
                return s
    raise last or OSError(errno.ECONNREFUSED, f"no volfile server answered on port {port}: {', '.join(servers)}")


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):  # one side gone: end the pair, glusterfs reconnects and gets a fresh one
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def relay(conn: socket.socket, servers: list[str], port: int) -> None:
    try:
        if _peer_uid(conn) != 0:
            log.warning("refusing a connection from uid %d: only root's glusterfs is relayed", _peer_uid(conn))
            conn.close()
            return
        upstream = connect_privileged(servers, port)
    except OSError as exc:
        log.warning("cannot reach a volfile server (%s): glusterfs will retry", exc)
        conn.close()
        return
    threading.Thread(target=_pump, args=(conn, upstream), daemon=True).start()
    _pump(upstream, conn)
    conn.close()
    upstream.close()


def _is_glusterfs(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip().startswith("glusterfs")
    except OSError:
        return False


def _glusterfs_running(pid_file: Path) -> bool | None:
    """Whether the process `pid_file` names is glusterfs; None without a (readable) pid file."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return _is_glusterfs(pid)


def client_alive(pid_file: Path, started: float) -> bool:
    """True while the mount's glusterfs runs, or while it may still be starting."""
    running = _glusterfs_running(pid_file)
    return time.monotonic() - started < FIRST_CLIENT_WITHIN if running is None else running


def serve(sock_path: Path, servers: list[str], port: int, client_pid_file: Path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound and listening under a temporary name, then renamed: the socket `start()` waits for
    # accepts connections from the moment it exists.
    tmp = sock_path.with_name(f".{sock_path.name}.tmp")
    tmp.unlink(missing_ok=True)
    listener.bind(str(tmp))
    os.chmod(tmp, 0o600)
    listener.listen(8)
    os.replace(tmp, sock_path)
    listener.settimeout(CHECK_EVERY)
    started = time.monotonic()
    try:
        while client_alive(client_pid_file, started):
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=relay, args=(conn, servers, port), daemon=True).start()
    finally:
        listener.close()
        sock_path.unlink(missing_ok=True)


# --- the CLI side: one relay per mount point, its files in a root-only directory ----------------

RUN_DIR = Path("/run/kadalu/mounts")
START_TIMEOUT = 10.0


def paths(mountpoint: str) -> dict[str, Path]:
    d = RUN_DIR / hashlib.sha256(mountpoint.encode()).hexdigest()[:16]
    return {"dir": d, "socket": d / "volfile.sock", "pid": d / "relay.pid", "client_pid": d / "glusterfs.pid"}


def spawn(argv: list[str]) -> subprocess.Popen:
    """Start the relay in its own session: it outlives the CLI, like the glusterfs client."""
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True)


def _relay_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"cli.volfile_relay" in cmdline and str(pid_file).encode() in cmdline else None


def stop(mountpoint: str, timeout: float = 5.0) -> None:
    """End the relay of `mountpoint`, if one runs (checked by its command line, never a stranger)."""
    files = paths(mountpoint)
    pid = _relay_pid(files["pid"])
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _relay_pid(files["pid"]) == pid and time.monotonic() < deadline:
            time.sleep(0.05)
    if not _glusterfs_running(files["client_pid"]):
        # glusterfs, exiting after the unmount, may write its pid file after the relay cleaned up
        files["client_pid"].unlink(missing_ok=True)
        try:
            files["dir"].rmdir()
        except OSError:
            pass


def start(mountpoint: str, servers: list[str], port: int, log_file: Path) -> dict[str, Path]:
    """Start the relay for a mount at `mountpoint`; its files once its socket listens. Needs root."""
    if os.geteuid() != 0:
        raise PermissionError("`kadalu mount` must run as root: FUSE mounts need it, and the nodes' volfile "
                              "servers hand a volume's volfile (it holds the volume's credentials) only to root")
    files = paths(mountpoint)
    stop(mountpoint)  # a relay left by an earlier mount of the same mount point
    files["dir"].mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(files["dir"], 0o700)
    files["client_pid"].unlink(missing_ok=True)
    files["socket"].unlink(missing_ok=True)
    argv = [sys.executable, "-m", "cli.volfile_relay", "--socket", str(files["socket"]), "--pid-file",
            str(files["pid"]), "--client-pid-file", str(files["client_pid"]), "--port", str(port),
            "--log-file", str(log_file)]
    for server in servers:
        argv += ["--server", server]
    proc = spawn(argv)
    deadline = time.monotonic() + START_TIMEOUT
    while not files["socket"].exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise OSError(f"the volfile relay did not start (see {log_file})")
        time.sleep(0.05)
    return files


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="kadalu-volfile-relay")
    p.add_argument("--socket", required=True, type=Path)
    p.add_argument("--pid-file", required=True, type=Path)
    p.add_argument("--client-pid-file", required=True, type=Path)
    p.add_argument("--server", action="append", required=True)
    p.add_argument("--port", type=int, default=24007)
    p.add_argument("--log-file", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(filename=args.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.pid_file.write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the clean-up below
    try:
        serve(args.socket, args.server, args.port, args.client_pid_file)
    finally:
        args.pid_file.unlink(missing_ok=True)
        args.client_pid_file.unlink(missing_ok=True)
        try:
            args.socket.parent.rmdir()  # the mount's own directory, empty now
        except OSError:
            pass


if __name__ == "__main__":
    main(sys.argv[1:])
