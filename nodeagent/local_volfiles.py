"""What the agent's local volfile server hands out, and where it listens.

The node's own bricks and self-heal daemons fetch their graphs from a second VolfileServer
instance on a unix socket (glusterfsd cannot bind a privileged port for its management
connection, so the TCP server's root check cannot apply to it): the socket's directory is 0700,
the socket 0600, and the server answers only peers whose SO_PEERCRED uid is root. Brick volfiles
hold the volume's credentials and are never served over TCP.

A key (--volfile-id) is answered with its served volfile (ProcessLayout.served_volfile), the file
nodeagent/live_graphs.py maintains: the server computes nothing, so what a daemon fetches is always
what the agent decided it should run (a change of shape is never handed to a running brick)."""
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from nodeagent.gluster.processes import ProcessLayout

RUN_ROOT = Path("/run/kadalu/agents")
SUN_PATH_MAX = 107  # sockaddr_un.sun_path, with its NUL


def socket_path(state_dir: Path) -> str:
    """/run/kadalu/agents/<hash of the state dir>/volfile.socket (several agents may share a host in
    tests); under the state dir when /run is not writable (an agent not run as root)."""
    tag = hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:16]
    path = RUN_ROOT / tag / "volfile.socket"
    if os.geteuid() != 0:
        path = Path(state_dir) / "run" / "volfile.socket"
    if len(str(path)) > SUN_PATH_MAX:
        raise ValueError(f"unix socket path {path} is longer than {SUN_PATH_MAX} bytes")
    return str(path)


def served_volfile_lookup(state_dir: Path) -> Callable[[str, str], str | None]:
    layout = ProcessLayout(Path(state_dir))

    def lookup(key: str, peer: str) -> str | None:
        try:
            return layout.served_volfile(key).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return None

    return lookup
