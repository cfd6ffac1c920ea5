"""Pid files of gluster daemons, and stopping a daemon without ever signalling a stranger.

Daemons started with `-p <pidfile>` fork into the background, so they are not our children:
we cannot wait() on them, and where init does not reap (containers, micro-VMs) a dead daemon
lingers as a zombie. A pid counts as running only if /proc shows a live glusterfs/glusterfsd
whose own command line names the same pid file: a stale file whose pid was reused by another
program is recognised and left alone."""
import os
import select
import signal
import time
from pathlib import Path

GLUSTER_BINARIES = ("glusterfsd", "glusterfs")


def read_pid(pidfile: Path) -> int | None:
    try:
        text = Path(pidfile).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return int(text) if text.isdigit() else None


def cmdline(pid: int) -> list[str]:
    """The argv of a live process; [] if it is gone or a zombie (whose cmdline is empty)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def is_gluster_process(pid: int, pidfile: Path | None = None, binary: str | None = None) -> bool:
    argv = cmdline(pid)
    if not argv or os.path.basename(argv[0]) not in ((binary,) if binary else GLUSTER_BINARIES):
        return False
    if pidfile is None:
        return True
    return any(a == "-p" and b == str(pidfile) for a, b in zip(argv, argv[1:], strict=False))


def running_pid(pidfile: Path, binary: str | None = None) -> int | None:
    """The pid in `pidfile` if that process is alive and is the gluster daemon that wrote it."""
    pid = read_pid(pidfile)
    return pid if pid and is_gluster_process(pid, pidfile, binary) else None


def _wait_exit(pidfd: int, timeout: float) -> bool:
    # A pidfd turns readable when the process exits, child of ours or not, zombie or reaped.
    return bool(select.select([pidfd], [], [], max(timeout, 0))[0])


def stop_pid(pidfile: Path, timeout: float = 10.0) -> bool:
    """Stop the gluster daemon named by `pidfile`: SIGTERM, then SIGKILL after `timeout`.

    Returns True if a process was signalled. The pid file is removed in every case; a pid that
    is not a gluster daemon started with this pid file is never signalled."""
    pidfile = Path(pidfile)
    pid = read_pid(pidfile)
    signalled = False
    if pid:
        try:
            # Hold the process by pidfd before checking who it is, so the pid cannot be reused
            # between the check and the signal.
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = None
        if pidfd is not None:
            try:
                if is_gluster_process(pid, pidfile):
                    signal.pidfd_send_signal(pidfd, signal.SIGTERM)
                    signalled = True
                    if not _wait_exit(pidfd, timeout):
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                        _wait_exit(pidfd, 5.0)
            except ProcessLookupError:
                pass  # exited on its own meanwhile
            finally:
                os.close(pidfd)
    pidfile.unlink(missing_ok=True)
    return signalled


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass (monotonic clock)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
