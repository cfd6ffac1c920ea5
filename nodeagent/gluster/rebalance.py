"""Rebalance without glusterd: fix the directory layouts over the volume's current sets and migrate
files to the set their name now hashes to.

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

Which files a process migrates (dht_init_local_subvols_and_nodeuuids, 10.3): at start it asks
every subvolume of distribute for `glusterfs.find-local-subvol`; each brick's storage/posix answers
with its `glusterd-uuid` option (our node uuid), a replica set with the uuids of all its bricks.
A subvolume is local when one of them equals the process's `node-uuid`. The process crawls the
whole tree and fixes every directory's layout, but migrates only files whose current (cached)
subvolume is local (inside a replica set one of the set's nodes, picked by the file's gfid, per
gf_defrag_should_i_migrate; only distribute volumes were exercised here). So every
node runs one rebalance process with its own uuid, each moving the files off its own bricks; a
node with no brick of the volume completes at once with nothing moved.

Commit hash, and why stop does more than stop. The process writes its commit hash on the volume
root (trusted.glusterfs.dht.commithash) when it starts, and into a directory's layout on its
local bricks once it has queued that directory's files ("settle"). Clients with lookup-optimize
(on by default) trust a miss on the hashed brick when every brick's layout of the parent carries
the root's commit hash. 10.3 settles a directory before its queued files have moved, and also
when it is stopped; with one hash shared by all nodes (glusterd's way) a stop, or a node finishing
early, leaves directories "committed" while some of their files still sit on the old brick, and
those files are not found (upstream gluster/glusterfs#973, wontfix; reproduced here: 222 of 1000
files unreachable after one node was stopped and the others completed). So:
- by default every start uses a fresh random commit hash: nodes do not share it, directories
  settled by different nodes never look committed, and a miss is always searched on every brick
  (lookup-optimize's shortcut is lost for these directories, no file is hidden). Exception: a
  node holding every brick settles them all with its own hash, which gives upstream's transient
  window while it runs. A caller can pass one shared `commit_hash` per run to all nodes to get
  glusterd's behaviour (and its race) instead;
- stop, once the process is gone, runs a fix-layout pass (rebalance-cmd=4, which never settles)
  with yet another fresh hash: it rewrites the root's commit hash, so whatever the stopped run
  settled no longer counts as committed. Clients already mounted see every file again within
  about a second (they re-read the root's hash when they revalidate it).

Progress comes from the process itself: with `--socket-file` it serves glusterd's brick-op RPC
program on that unix socket, and GLUSTERD_BRICK_XLATOR_DEFRAG with "rebalance-command" = STATUS
returns the live counters (files, size, lookups, failures, skipped, run-time, status). Once the
process has exited the same numbers come from the line it logs last:
"Rebalance is completed. Time taken is N secs Files migrated: N, size: B, lookups: N, failures: N,
skipped: N". Stop sends the same RPC with STOP: distribute stops queueing files, lets the ones in
flight finish, logs that line with "stopped" and exits; SIGTERM (then SIGKILL) by pid file only if
it does not. A later start rescans everything and moves only what is still misplaced.

Files live under `<layout_root>/rebalance/<vol>/`: rebalance.vol, rebalance.pid, rebalance.log,
rebalance.sock (elsewhere only if that path is too long for a unix socket), run.json (the record of
the current run: command, node uuid, commit hash, start time, where its log lines begin), and the
uncommit.{pid,log,sock} of the fix-layout pass that follows a stop."""
import errno
import hashlib
import json
import os
import re
import secrets
import socket
import struct
import tempfile
import time
from pathlib import Path

from contracts.volume_spec import VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.pids import read_pid, running_pid, stop_pid, wait_for
from nodeagent.gluster.processes import write_atomic
from nodeagent.runner import Runner
from volgen.client import data_graph
from volgen.graph import render, stack, xlator
from volgen.options import apply_options

__all__ = ["start_rebalance", "rebalance_status", "stop_rebalance", "rebalance_argv", "rebalance_volfile",
           "new_commit_hash", "summarize"]

# gf_cli_defrag_type (rpc/xdr/src/cli1-xdr.x)
CMD_START, CMD_STOP, CMD_STATUS, CMD_START_LAYOUT_FIX = 1, 2, 3, 4
# gf_defrag_status_t, as the process reports it over its socket
_DEFRAG_STATES = {
    0: "in_progress",  # not started yet: waiting for its bricks to answer
    1: "in_progress", 2: "stopped", 3: "completed", 4: "failed",
    5: "in_progress", 6: "stopped", 7: "completed", 8: "failed",  # the fix-layout variants
}
_FINAL_WORDS = {"completed": "completed", "stopped": "stopped", "failed": "failed"}
_FINAL_LINE = re.compile(
    r"Rebalance is (?P<state>[\w -]+?)\. Time taken is (?P<secs>\d+) secs Files migrated: (?P<files>\d+), "
    r"size: (?P<size>\d+), lookups: (?P<lookups>\d+), failures: (?P<failures>\d+), skipped: (?P<skipped>\d+)")

_SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes with its NUL; keep a margin
_RPC_TIMEOUT = 5.0
_STOP_WAIT = 120.0  # in-flight migrations finish before a stopped process exits


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


def _paths(layout_root, spec: VolumeSpec) -> dict[str, Path]:
    d = rebalance_dir(layout_root, spec)
    return {"dir": d, "volfile": d / "rebalance.vol", "run": d / "run.json",
            "pid": d / "rebalance.pid", "log": d / "rebalance.log", "sock": _sock(d, "rebalance"),
            "uncommit_pid": d / "uncommit.pid", "uncommit_log": d / "uncommit.log",
            "uncommit_sock": _sock(d, "uncommit")}


def _dht_name(spec: VolumeSpec) -> str:
    names = [x.name for x in data_graph(spec) if x.type == "cluster/distribute"]
    if not names:
        raise AgentError("not_distributed", f"volume {spec.name} has a single {spec.type} set: there is nothing to "
                         "rebalance", "add bricks (a whole set at a time) first, then start the rebalance",
                         errno.EINVAL)
    return names[0]


def rebalance_volfile(spec: VolumeSpec) -> str:
    """The graph glusterd builds for rebalance (build_rebalance_volfile): the volume's clients and
    sets under distribute, io-stats named after the volume on top, no performance translators.
    The volume's client-side options apply as on a mount (glusterd does the same): client.ssl and
    the certificate paths, ping-timeout, ...; the clients carry the volume's credentials."""
    _dht_name(spec)
    graph = stack(data_graph(spec), [xlator(spec.name, "debug/io-stats", {"volume-id": spec.id})])
    return render(apply_options(graph, "client", spec.options))


def new_commit_hash() -> int:
    """A fresh commit hash; 0 and 1 are avoided (DHT reads 1 as "no commit hash")."""
    return 2 + secrets.randbelow(2**32 - 2)


def _argv(spec: VolumeSpec, volfile: Path, node_uuid: str, cmd: int, commit_hash: int, sock: Path, pid: Path,
          log: Path) -> list[str]:
    dht = _dht_name(spec)
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
    p = _paths(layout_root, spec)
    cmd = CMD_START_LAYOUT_FIX if fix_layout_only else CMD_START
    return _argv(spec, p["volfile"], node_uuid, cmd, commit_hash, p["sock"], p["pid"], p["log"])


def _read_run(p: dict[str, Path]) -> dict | None:
    try:
        return json.loads(p["run"].read_text())
    except (FileNotFoundError, ValueError):
        return None


def _launch(runner: Runner, argv: list[str], pidfile: Path, sock: Path, log: Path, what: str, timeout: float) -> int:
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
    if _final_status(log, offset) is not None:
        return read_pid(pidfile) or 0
    raise failure(what, log, offset, "the process exited right after starting")


def start_rebalance(layout_root, spec: VolumeSpec, node_uuid: str, runner: Runner, fix_layout_only: bool = False,
                    commit_hash: int | None = None, timeout: float = 30.0) -> int:
    """Start this node's rebalance process for `spec` (its current bricks, new ones included) and
    return its pid; a process already running is kept and its pid returned.

    Every node holding bricks of the volume runs one, with its own node uuid (see the module
    docstring). `fix_layout_only` fixes directory layouts and moves no data. `commit_hash`: leave
    it out for a fresh one per start (safe); pass one value to every node of a run to get
    glusterd's shared commit hash (lookup-optimize works, with upstream's race)."""
    p = _paths(layout_root, spec)
    pid = running_pid(p["pid"], "glusterfs")
    if pid:
        return pid
    # A fix-layout pass left by a stop that outlived its wait: it has long reset the root's hash.
    stop_pid(p["uncommit_pid"], timeout=10.0)
    commit_hash = new_commit_hash() if commit_hash is None else commit_hash
    volfile = rebalance_volfile(spec)
    p["dir"].mkdir(parents=True, exist_ok=True)
    write_atomic(p["volfile"], volfile)
    write_atomic(p["run"], json.dumps({
        "command": "fix-layout" if fix_layout_only else "start", "node_uuid": node_uuid,
        "commit_hash": commit_hash, "started_at": time.time(), "log_offset": log_size(p["log"]),
        "socket": str(p["sock"]), "stop_requested": False, "uncommitted": False,
    }))
    return _launch(runner, rebalance_argv(layout_root, spec, node_uuid, commit_hash, fix_layout_only),
                   p["pid"], p["sock"], p["log"], f"rebalance of volume {spec.name}", timeout)


# --- the process's own status/stop RPC (glusterd's brick-op program on --socket-file) -------------

_GD_BRICK_PROGRAM, _GD_BRICK_VERSION, _GLUSTERD_BRICK_XLATOR_DEFRAG = 4867634, 2, 6


def _xdr_opaque(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data + b"\0" * (-len(data) % 4)


def _dict_serialize(values: dict[str, str]) -> bytes:
    """libglusterfs dict_serialize: count, then per pair key length, value length, key NUL, value
    (values travel as NUL-terminated strings, as dict_set_int32 stores them)."""
    out = struct.pack(">i", len(values))
    for key, value in values.items():
        k, v = key.encode(), str(value).encode() + b"\0"
        out += struct.pack(">ii", len(k), len(v)) + k + b"\0" + v
    return out


def _dict_unserialize(data: bytes) -> dict[str, str]:
    if len(data) < 4:
        return {}
    (count,), off, out = struct.unpack_from(">i", data, 0), 4, {}
    for _ in range(count):
        klen, vlen = struct.unpack_from(">ii", data, off)
        off += 8
        key = data[off:off + klen].decode(errors="replace")
        off += klen + 1
        out[key] = data[off:off + vlen].rstrip(b"\0").decode(errors="replace")
        off += vlen
    return out


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def _defrag_rpc(sock_path: str, dht: str, command: int, timeout: float = _RPC_TIMEOUT) -> dict[str, str] | None:
    """Send GLUSTERD_BRICK_XLATOR_DEFRAG to the rebalance process, as glusterd does; None if it
    does not answer (not listening yet, exiting, or gone)."""
    args = (_xdr_opaque(dht.encode()) + struct.pack(">i", _GLUSTERD_BRICK_XLATOR_DEFRAG)
            + _xdr_opaque(_dict_serialize({"rebalance-command": str(command)}))
            + _xdr_opaque(b""))  # the trailing `dict` newer gd1_mgmt_brick_op_req carry; ignored by older ones
    xid = int.from_bytes(os.urandom(4), "big")
    call = struct.pack(">IIIIIIIIII", xid, 0, 2, _GD_BRICK_PROGRAM, _GD_BRICK_VERSION,
                       _GLUSTERD_BRICK_XLATOR_DEFRAG, 0, 0, 0, 0) + args  # AUTH_NULL credential and verifier
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path)
            s.sendall(struct.pack(">I", 0x80000000 | len(call)) + call)
            reply = b""
            while True:  # record marking: fragments until the last-fragment bit
                (header,) = struct.unpack(">I", _recv_exact(s, 4))
                reply += _recv_exact(s, header & 0x7FFFFFFF)
                if header & 0x80000000:
                    break
    except (OSError, ConnectionError, struct.error):
        return None
    try:
        rxid, mtype, reply_stat = struct.unpack_from(">III", reply, 0)
        if rxid != xid or mtype != 1 or reply_stat != 0:
            return None
        (vlen,) = struct.unpack_from(">I", reply, 16)
        off = 20 + vlen + (-vlen % 4)
        accept_stat, op_ret, _op_errno, out_len = struct.unpack_from(">IiiI", reply, off)
        if accept_stat != 0:
            return None
        off += 16
        return _dict_unserialize(reply[off:off + out_len])
    except struct.error:
        return None


# --- status ----------------------------------------------------------------------------------------

def _final_status(log: Path, offset: int) -> dict | None:
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


def _as_int(values: dict[str, str], key: str) -> int:
    try:
        return int(float(values.get(key, "0")))
    except ValueError:
        return 0


def _blank(state: str, pid: int | None = None) -> dict:
    return {"state": state, "files_scanned": 0, "files_moved": 0, "files_failed": 0, "files_skipped": 0,
            "bytes_moved": 0, "elapsed_seconds": 0.0, "pid": pid}


def rebalance_status(layout_root, spec: VolumeSpec) -> dict:
    """This node's rebalance of `spec`: state ("not_started", "in_progress", "completed", "stopped",
    "failed"), counters of the current (latest) run, and the pid while it runs.

    The counters are those of one run: after a stop and a new start they count from zero again
    (the new run skips what the previous one already moved)."""
    p = _paths(layout_root, spec)
    run = _read_run(p)
    if run is None:
        return _blank("not_started")
    extra = {"command": run.get("command"), "node_uuid": run.get("node_uuid"),
             "commit_hash": run.get("commit_hash"), "started_at": run.get("started_at"),
             "layout_reset": bool(run.get("uncommitted"))}
    pid = running_pid(p["pid"], "glusterfs")
    if pid:
        live = _defrag_rpc(run.get("socket", str(p["sock"])), _dht_name(spec), CMD_STATUS)
        out = _blank("in_progress", pid) | extra
        if live:
            out["state"] = _DEFRAG_STATES.get(_as_int(live, "status"), "in_progress")
            out |= {"files_scanned": _as_int(live, "lookups"), "files_moved": _as_int(live, "files"),
                    "files_failed": _as_int(live, "failures"), "files_skipped": _as_int(live, "skipped"),
                    "bytes_moved": _as_int(live, "size"), "elapsed_seconds": float(_as_int(live, "run-time"))}
        else:  # starting up (graph not active yet) or exiting: no counters to give
            out["elapsed_seconds"] = round(max(time.time() - float(run.get("started_at", time.time())), 0.0), 1)
        return out
    final = _final_status(p["log"], int(run.get("log_offset", 0)))
    if final is None:
        # Ended without its final line: killed (our stop's SIGTERM fallback, or anyone's SIGKILL) or crashed.
        return _blank("stopped" if run.get("stop_requested") else "failed") | extra
    word = final.pop("word")
    state = _FINAL_WORDS.get(word, "failed")  # "in progress" from a process that is gone means it died
    return {"state": state, **final, "pid": None} | extra


def _uncommit(spec: VolumeSpec, p: dict[str, Path], run: dict, runner: Runner, timeout: float) -> bool:
    """After a stop: a fix-layout pass with a fresh commit hash, so directories the stopped run
    settled too early stop counting as committed (see the module docstring). True once it is done."""
    if running_pid(p["uncommit_pid"], "glusterfs"):
        pid = read_pid(p["uncommit_pid"])
    else:
        offset = log_size(p["uncommit_log"])
        argv = _argv(spec, p["volfile"], run["node_uuid"], CMD_START_LAYOUT_FIX, new_commit_hash(),
                     p["uncommit_sock"], p["uncommit_pid"], p["uncommit_log"])
        pid = _launch(runner, argv, p["uncommit_pid"], p["uncommit_sock"], p["uncommit_log"],
                      f"layout reset after stopping the rebalance of volume {spec.name}", 30.0)
        run["uncommit_log_offset"] = offset
    if pid:
        wait_for(lambda: running_pid(p["uncommit_pid"], "glusterfs") is None, timeout, 0.2)
        if running_pid(p["uncommit_pid"], "glusterfs"):
            return False  # still crawling: left running (the root's hash was reset when it began)
    final = _final_status(p["uncommit_log"], int(run.get("uncommit_log_offset", 0)))
    return final is not None and final["word"] == "completed"


def stop_rebalance(layout_root, spec: VolumeSpec, runner: Runner | None = None, timeout: float = _STOP_WAIT) -> dict:
    """Stop this node's rebalance of `spec` and return its status. Safe to resume, and nothing is
    hidden meanwhile:
    - the process is asked to stop over its socket (files being migrated finish, nothing new
      starts); only if it does not answer or exit within `timeout` is it sent SIGTERM (then
      SIGKILL) by its pid file. A file cut off mid-migration stays readable at its source and
      is redone by the next start;
    - then a fix-layout pass with a fresh commit hash resets the volume root's hash, so no
      directory the stopped run settled early looks committed (status key "layout_reset").
    A run that already ended is not touched (a failed one still gets the layout reset)."""
    runner = runner or Runner()
    p = _paths(layout_root, spec)
    run = _read_run(p)
    pid = running_pid(p["pid"], "glusterfs")
    if run is None:
        if pid:  # running without our record of it: a plain stop
            stop_pid(p["pid"], timeout=10.0)
        return rebalance_status(layout_root, spec)
    if pid:
        run["stop_requested"] = True
        write_atomic(p["run"], json.dumps(run))
        answered = _defrag_rpc(run.get("socket", str(p["sock"])), _dht_name(spec), CMD_STOP) is not None
        if not (answered and wait_for(lambda: running_pid(p["pid"], "glusterfs") is None, timeout, 0.2)):
            stop_pid(p["pid"], timeout=10.0)
    status = rebalance_status(layout_root, spec)
    if status["state"] in ("stopped", "failed") and run.get("command") == "start" and not run.get("uncommitted"):
        run["uncommitted"] = _uncommit(spec, p, run, runner, timeout)
        write_atomic(p["run"], json.dumps(run))
    return rebalance_status(layout_root, spec)


def summarize(per_node: dict[str, dict]) -> dict:
    """One volume-wide view of the nodes' statuses (node name or id -> rebalance_status result):
    counters added up, elapsed the longest, state the least finished one."""
    nodes = list(per_node.values())
    if not nodes:
        return _blank("not_started") | {"nodes": {}}
    states = {n["state"] for n in nodes}
    for state in ("in_progress", "failed", "stopped", "not_started", "completed"):
        if state in states:
            break
    if state == "not_started" and len(states) > 1:
        state = "in_progress"  # some nodes ran, some not yet
    out = {"state": state, "pid": None, "nodes": per_node}
    for key in ("files_scanned", "files_moved", "files_failed", "files_skipped", "bytes_moved"):
        out[key] = sum(int(n.get(key, 0)) for n in nodes)
    out["elapsed_seconds"] = max(float(n.get("elapsed_seconds", 0.0)) for n in nodes)
    return out
