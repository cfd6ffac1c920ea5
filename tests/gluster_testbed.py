"""Helpers shared by the tests that run glusterfsd bricks and FUSE mounts directly (without the
control plane): free ports per loopback "node", and a teardown that never skips a step."""
import socket
from pathlib import Path

from nodeagent.errors import AgentError
from nodeagent.gluster.mount import umount
from nodeagent.gluster.pids import stop_pid
from nodeagent.runner import Runner


def free_port(address: str, taken: set[int]) -> int:
    """A port nothing listens on at `address`, not handed out before in this test."""
    while True:
        with socket.socket() as s:
            s.bind((address, 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def unmount_and_stop(mounts: list[Path], pidfiles: list[Path], runner: Runner) -> None:
    """Unmount, then stop every daemon by its pid file (last started first); one failure skips nothing."""
    errors = []
    for mountpoint in mounts:
        try:
            umount(str(mountpoint), runner)
        except AgentError as exc:
            errors.append(exc.message)
    for pidfile in reversed(pidfiles):
        stop_pid(pidfile, timeout=5)
    assert not errors, errors
