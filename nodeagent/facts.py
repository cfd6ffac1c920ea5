"""Facts a node reports about itself."""
import socket
from functools import cache

from nodeagent.runner import Runner


@cache
def glusterfs_version(runner: Runner | None = None) -> str:
    out = (runner or Runner()).run(["glusterfsd", "--version"], timeout=10)
    if out.returncode != 0 or not out.stdout:
        return ""
    first = out.stdout.splitlines()[0]  # "glusterfs 10.3"
    return first.split()[-1] if first.startswith("glusterfs") else first.strip()


def hostname() -> str:
    return socket.gethostname()
