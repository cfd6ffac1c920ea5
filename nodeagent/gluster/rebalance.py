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
subvolume is local; inside a replica set the file's gfid picks one of the set's nodes. So every
node runs one rebalance process with its own uuid, each moving the files off its own bricks; a
node with no brick of the volume completes at once with nothing moved. All processes of one
rebalance must use the same commit hash: by default it is derived from the volume id and its
brick list, so every node computes the same value without talking to the others.

Progress comes from the process itself: with `--socket-file` it serves glusterd's brick-op RPC
program on that unix socket, and GLUSTERD_BRICK_XLATOR_DEFRAG with "rebalance-command" = STATUS
returns the live counters (files, size, lookups, failures, skipped, run-time, status). Once the
process has exited the same numbers come from the line it logs last:
"Rebalance is completed. Time taken is N secs Files migrated: N, size: B, lookups: N, failures: N,
skipped: N". Stop sends the same RPC with STOP: distribute stops queueing files, lets the ones in
flight finish, logs that line with "stopped" and exits. SIGTERM by pid file only if that fails.
A later start rescans everything and moves only what is still misplaced.

Files live under `<layout_root>/rebalance/<vol>/`: rebalance.vol, rebalance.pid, rebalance.log,
rebalance.sock (elsewhere only if that path is too long for a unix socket) and run.json, the record
of the current run (command, node uuid, commit hash, start time, where its log lines begin)."""
import errno
import hashlib
import json
import os
import re
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

__all__ = ["start_rebalance", "rebalance_status", "stop_rebalance", "rebalance_argv", "rebalance_volfile",
           "default_commit_hash", "summarize"]

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


def _paths(layout_root, spec: VolumeSpec) -> dict[str, Path]:
    d = rebalance_dir(layout_root, spec)
    sock = d / "rebalance.sock"
    if len(os.fsencode(str(sock))) > _SUN_PATH_MAX:
        base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
        sock = base / "kadalu-rebalance" / f"{hashlib.sha256(str(d).encode()).hexdigest()[:24]}.sock"
    return {"dir": d, "volfile": d / "rebalance.vol", "pid": d / "rebalance.pid", "log": d / "rebalance.log",
            "sock": sock, "run": d / "run.json"}


def _dht_name(spec: VolumeSpec) -> str:
    names = [x.name for x in data_graph(spec) if x.type == "cluster/distribute"]
    if not names:
        raise AgentError("not_distributed", f"volume {spec.name} has a single {spec.type} set: there is nothing to "
                         "rebalance", "add bricks (a whole set at a time) first, then start the rebalance",
                         errno.EINVAL)
    return names[0]


def rebalance_volfile(spec: VolumeSpec) -> str:
    """The graph glusterd builds for rebalance (build_rebalance_volfile): the volume's clients and
    sets under distribute, io-stats named after the volume on top, no performance translators."""
    _dht_name(spec)
    return render(stack(data_graph(spec), [xlator(spec.name, "debug/io-stats", {"volume-id": spec.id})]))


def default_commit_hash(spec: VolumeSpec) -> int:
    """One value for every node of the same rebalance, with no coordination: a function of the volume
    and its brick list, so it changes whenever the layout's set of bricks changes. 0 and 1 are
    avoided (DHT reads 1 as "no commit hash")."""
    text = spec.id + "\n" + "\n".join(f"{b.id}:{b.address}:{b.path}" for b in spec.bricks)
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
    return value if value > 1 else value + 2


def rebalance_argv(layout_root, spec: VolumeSpec, node_uuid: str, commit_hash: int, fix_layout_only: bool = False) -> list[str]:
    p, dht = _paths(layout_root, spec), _dht_name(spec)
    cmd = CMD_START_LAYOUT_FIX if fix_layout_only else CMD_START
    opts = ["use-readdirp=yes", "lookup-unhashed=yes", "assert-no-child-down=yes", "readdir-optimize=on"]
    argv = ["glusterfs", "--volfile-id", f"rebalance/{spec.name}", "-f", str(p["volfile"])]
    for opt in opts:
        argv += ["--xlator-option", f"{dht}.{opt}"]
    argv += ["--process-name", "rebalance"]
    for opt in (f"rebalance-cmd={cmd}", f"node-uuid={node_uuid}", f"commit-hash={commit_hash}"):
        argv += ["--xlator-option", f"{dht}.{opt}"]
    # -p (not --pid-file): the pid helpers recognise our daemon by "-p <pidfile>" in its cmdline.
    argv += ["--socket-file", str(p["sock"]), "-p", str(p["pid"]), "-l", str(p["log"])]
    return argv


def _read_run(p: dict[str, Path]) -> dict | None:
    try:
        return json.loads(p["run"].read_text())
    except (FileNotFoundError, ValueError):
        return None


def start_rebalance(layout_root, spec: VolumeSpec, node_uuid: str, runner: Runner, fix_layout_only: bool = False,
                    commit_hash: int | None = None, timeout: float = 30.0) -> int:
    """Start this node's rebalance process for `spec` (its current bricks, new ones included) and
    return its pid; a process already running is kept and its pid returned.

    Every node holding bricks of the volume runs one, with its own node uuid (see the module
    docstring). `fix_layout_only` fixes directory layouts and moves no data."""
    p = _paths(layout_root, spec)
    pid = running_pid(p["pid"], "glusterfs")
    if pid:
        return pid
    volfile = rebalance_volfile(spec)
    commit_hash = default_commit_hash(spec) if commit_hash is None else commit_hash
    p["dir"].mkdir(parents=True, exist_ok=True)
    p["sock"].parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p["volfile"], volfile)
    p["pid"].unlink(missing_ok=True)  # stale (checked above)
    p["sock"].unlink(missing_ok=True)
    offset = log_size(p["log"])
    write_atomic(p["run"], json.dumps({
        "command": "fix-layout" if fix_layout_only else "start", "node_uuid": node_uuid,
        "commit_hash": commit_hash, "started_at": time.time(), "log_offset": offset,
        "socket": str(p["sock"]), "stop_requested": False,
    }))
    what = f"rebalance of volume {spec.name}"
    done = runner.run(rebalance_argv(layout_root, spec, node_uuid, commit_hash, fix_layout_only), timeout=timeout)
    if done.returncode != 0:
        stop_pid(p["pid"])
        raise failure(what, p["log"], offset, f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")
    # The parent returns once the daemon wrote its pid file.
    pid = running_pid(p["pid"], "glusterfs")
    if pid:
        return pid
    # Gone already: fine if it finished (a node without local bricks completes in milliseconds).
    if _final_status(p["log"], offset) is not None:
        return read_pid(p["pid"]) or 0
    raise failure(what, p["log"], offset, "the process exited right after starting")


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
             "commit_hash": run.get("commit_hash"), "started_at": run.get("started_at")}
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


def stop_rebalance(layout_root, spec: VolumeSpec, timeout: float = _STOP_WAIT) -> dict:
    """Stop this node's rebalance of `spec` and return its status. Safe to resume: the process is
    asked to stop over its socket (files being migrated finish, nothing new starts); only if it
    does not answer or exit within `timeout` is it sent SIGTERM (then SIGKILL) by its pid file.
    A file cut off mid-migration stays readable at its source and is redone by the next start."""
    p = _paths(layout_root, spec)
    run = _read_run(p)
    pid = running_pid(p["pid"], "glusterfs")
    if run is not None and pid:
        run["stop_requested"] = True
        write_atomic(p["run"], json.dumps(run))
        answered = _defrag_rpc(run.get("socket", str(p["sock"])), _dht_name(spec), CMD_STOP) is not None
        if not (answered and wait_for(lambda: running_pid(p["pid"], "glusterfs") is None, timeout, 0.2)):
            stop_pid(p["pid"], timeout=10.0)
    elif pid:  # running without a run record (left by something else): plain stop
        stop_pid(p["pid"], timeout=10.0)
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
