"""Turning a gluster daemon's failure into an AgentError: this run's last log lines, and a hint
picked from what the log says."""
import errno
from pathlib import Path

from nodeagent.errors import AgentError

TAIL_LINES = 20

# (text in the log, error code, errno, hint). First match wins.
_KNOWN_FAILURES = [
    ("Address already in use", "port_in_use", errno.EADDRINUSE,
     "another process listens on the brick's port; find it with `ss -ltnp` and stop it, or use another port"),
    ("Cannot assign requested address", "address_not_local", errno.EADDRNOTAVAIL,
     "the storage address is not one of this node's IP addresses (see `ip addr`)"),
    ("Failed to find parent dir", "brick_not_prepared", errno.ENOENT,
     "the brick directory (or its .glusterfs/indices) is missing: prepare the brick, and check its device is mounted"),
    ("volume-id is absent", "brick_not_prepared", errno.ENODATA,
     "the brick directory has no trusted.glusterfs.volume-id: prepare the brick before starting it"),
    ("mismatching volume-id", "stale_brick", errno.EEXIST,
     "the brick directory belongs to another volume: clear it or use another path"),
    ("Extended attribute not supported", "no_xattr", errno.ENOTSUP,
     "bricks need a file system with trusted xattrs (XFS, ext4, btrfs)"),
    ("Directory doesn't exist", "not_found", errno.ENOENT,
     "the brick directory is missing: is the device mounted?"),
    ("failed to open /dev/fuse", "no_fuse", errno.ENODEV,
     "load the fuse module (`modprobe fuse`) and check /dev/fuse exists"),
]


def log_size(log: Path) -> int:
    """Where this run's lines will start: daemons append to their log across restarts."""
    try:
        return Path(log).stat().st_size
    except FileNotFoundError:
        return 0


def log_tail(log: Path, offset: int = 0, lines: int = TAIL_LINES) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def failure(what: str, log: Path, offset: int, reason: str) -> AgentError:
    tail = log_tail(log, offset)
    known = next(((code, err, hint) for needle, code, err, hint in _KNOWN_FAILURES if needle in tail), None)
    code, err, hint = known or ("start_failed", None, f"read the full log at {log}")
    message = f"{what} failed to start: {reason}"
    if tail:
        message += f"\nlast lines of {log}:\n{tail}"
    return AgentError(code, message, hint, err)
