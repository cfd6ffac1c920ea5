"""One node's rebalance process: its graph, command line, files and launch.

The rebalance process is a `glusterfs` client running the volume's client graph (protocol/client
per brick, replicate/disperse sets, cluster/distribute, debug/io-stats on top; no performance
translators) with distribute switched into rebalance mode by xlator options, as glusterd 10.x
starts it (glusterd_handle_defrag_start) except that the graph comes from a local volfile:

    glusterfs --volfile-id rebalance/<vol> -f <dir>/rebalance.vol
        --xlator-option <vol>-dht.use-readdirp=yes --xlator-option <vol>-dht.lookup-unhashed=yes
        --xlator-option <vol>-dht.assert-no-child-down=yes --xlator-option <vol>-dht.readdir-optimize=on
        --process-name rebalance
        --xlator-option <vol>-dht.rebalance-cmd=<1 start | 4 fix-layout only>
        --xlator-option <vol>-dht.node-uuid=<this node's uuid>
        --xlator-option <vol>-dht.commit-hash=<n>
        --socket-file <sock> -p <dir>/rebalance.pid -l <dir>/rebalance.log

(glusterd writes `*dht.<key>`; we name the distribute xlator exactly.) rebalance-cmd values are
gf_cli_defrag_type: START=1, STOP=2, STATUS=3, START_LAYOUT_FIX=4.

Files live under `<layout_root>/rebalance/<vol>/`: rebalance.vol, rebalance.pid, rebalance.log,
rebalance.sock (elsewhere only if that path is too long for a unix socket), run.json (the record of
the current run: command, node uuid, commit hash, start time, where its log lines begin), and the
uncommit.{pid,log,sock} of the fix-layout pass that follows a stop.

Once the process has exited, its counters come from the line it logs last (`final_status`):
"Rebalance is completed. Time taken is N secs Files migrated: N, size: B, lookups: N, failures: N,
skipped: N"; while it runs, from its socket (`rebalance_rpc`).
"""
import errno
import hashlib
import json
import os
import re
import secrets
import tempfile
from pathlib import Path

from contracts.volume_spec import VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.pids import read_pid, running_pid, stop_pid
from nodeagent.gluster.rebalance_rpc import CMD_START, CMD_START_LAYOUT_FIX
from nodeagent.runner import Runner
from volgen.client import data_graph
from volgen.defaults import defaults
from volgen.graph import render, stack, xlator
from volgen.options import apply_options

_FINAL_LINE = re.compile(
    r"Rebalance is (?P<state>[\w -]+?)\. Time taken is (?P<secs>\d+) secs Files migrated: (?P<files>\d+), "
    r"size: (?P<size>\d+), lookups: (?P<lookups>\d+), failures: (?P<failures>\d+), skipped: (?P<skipped>\d+)")

_SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes with its NUL; keep a margin


def _root(layout_root) -> Path:
    # A ProcessLayout is accepted too: its state directory is the root.
    return Path(getattr(layout_root, "state_dir", layout_root))


def rebalance_dir(layout_root, spec: VolumeSpec) -> Path:
    return _root(layout_root) / "rebalance" / spec.name


def _sock(d: Path, stem: str) -> Path:
    sock = d / f"{stem}.sock"
    if len(os.fsencode(str(sock))) <= _SUN_PATH_MAX:
        return sock
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    return base / "kadalu-rebalance" / f"{hashlib.sha256(str(sock).encode()).hexdigest()[:24]}.sock"


def paths(layout_root, spec: VolumeSpec) -> dict[str, Path]:
    d = rebalance_dir(layout_root, spec)
    return {"dir": d, "volfile": d / "rebalance.vol", "run": d / "run.json",
            "pid": d / "rebalance.pid", "log": d / "rebalance.log", "sock": _sock(d, "rebalance"),
            "uncommit_pid": d / "uncommit.pid", "uncommit_log": d / "uncommit.log",
            "uncommit_sock": _sock(d, "uncommit")}


def dht_name(spec: VolumeSpec) -> str:
    # Distribute is in every client graph (also over one set, as glusterd has it): there is
    # something to rebalance only when it has several children.
    names = [x.name for x in data_graph(spec)
             if x.type in ("cluster/distribute", "cluster/nufa", "cluster/switch") and len(x.subvolumes) > 1]
    if not names:
        raise AgentError("not_distributed", f"volume {spec.name} has a single {spec.type} set: there is nothing to "
                         "rebalance", "add bricks (a whole set at a time) first, then start the rebalance",
                         errno.EINVAL)
    return names[0]


def rebalance_volfile(spec: VolumeSpec) -> str:
    """The graph glusterd builds for rebalance (build_rebalance_volfile): the volume's clients and
    sets under distribute, io-stats named after the volume on top, no performance translators
    (tests/integration/test_glusterd_parity.py compares it with glusterd's <vol>-rebalance.vol).
    The volume's client-side options apply as on a mount (glusterd does the same): client.ssl and
    the certificate paths, ping-timeout, ...; the clients carry the volume's credentials."""
    dht_name(spec)
    graph = stack(data_graph(spec, "shd"), [xlator(spec.name, "debug/io-stats", defaults("client", "debug/io-stats"))])
    return render(apply_options(graph, "client", spec.options))


def new_commit_hash() -> int:
    """A fresh commit hash; 0 and 1 are avoided (DHT reads 1 as "no commit hash")."""
    return 2 + secrets.randbelow(2**32 - 2)


def process_argv(spec: VolumeSpec, volfile: Path, node_uuid: str, cmd: int, commit_hash: int, sock: Path, pid: Path,
          log: Path) -> list[str]:
    dht = dht_name(spec)
    argv = ["glusterfs", "--volfile-id", f"rebalance/{spec.name}", "-f", str(volfile)]
    for opt in ("use-readdirp=yes", "lookup-unhashed=yes", "assert-no-child-down=yes", "readdir-optimize=on"):
        argv += ["--xlator-option", f"{dht}.{opt}"]
    argv += ["--process-name", "rebalance"]
    for opt in (f"rebalance-cmd={cmd}", f"node-uuid={node_uuid}", f"commit-hash={commit_hash}"):
        argv += ["--xlator-option", f"{dht}.{opt}"]
    # -p (not --pid-file): the pid helpers recognise our daemon by "-p <pidfile>" in its cmdline.
    return argv + ["--socket-file", str(sock), "-p", str(pid), "-l", str(log)]


def rebalance_argv(layout_root, spec: VolumeSpec, node_uuid: str, commit_hash: int,
                   fix_layout_only: bool = False) -> list[str]:
    p = paths(layout_root, spec)
    cmd = CMD_START_LAYOUT_FIX if fix_layout_only else CMD_START
    return process_argv(spec, p["volfile"], node_uuid, cmd, commit_hash, p["sock"], p["pid"], p["log"])


def read_run(p: dict[str, Path]) -> dict | None:
    try:
        return json.loads(p["run"].read_text())
    except (FileNotFoundError, ValueError):
        return None


def final_status(log: Path, offset: int) -> dict | None:
    """The last status line the process logged since `offset`, parsed."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    matches = list(_FINAL_LINE.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    return {"word": m["state"].strip(), "files_scanned": int(m["lookups"]), "files_moved": int(m["files"]),
            "files_failed": int(m["failures"]), "files_skipped": int(m["skipped"]), "bytes_moved": int(m["size"]),
            "elapsed_seconds": float(m["secs"])}


def launch(runner: Runner, argv: list[str], pidfile: Path, sock: Path, log: Path, what: str, timeout: float) -> int:
    """Run a rebalance process (it daemonises); its pid, or 0 if it already finished cleanly."""
    pidfile.unlink(missing_ok=True)  # stale: callers checked nothing runs with it
    sock.parent.mkdir(parents=True, exist_ok=True)
    sock.unlink(missing_ok=True)
    offset = log_size(log)
    done = runner.run(argv, timeout=timeout)
    if done.returncode != 0:
        stop_pid(pidfile)  # a half-started daemon must not linger
        raise failure(what, log, offset, f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")
    pid = running_pid(pidfile, "glusterfs")  # the parent returns once the daemon wrote its pid file
    if pid:
        return pid
    # Gone already: fine if it finished (a node without local bricks completes in milliseconds).
    if final_status(log, offset) is not None:
        return read_pid(pidfile) or 0
    raise failure(what, log, offset, "the process exited right after starting")
