"""Rebalance without glusterd: fix the directory layouts over the volume's current sets and migrate
files to the set their name now hashes to.

This module starts, reads and stops this node's rebalance process and sums up the nodes' reports;
the process itself (graph, command line, files, launch) is in `rebalance_process`, its status and
stop RPC in `rebalance_rpc`.

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

Progress: while the process runs, its counters come live over its socket (STATUS); once it has
exited, from the line it logs last. Stop sends STOP over the same socket: distribute stops
queueing files, lets the ones in flight finish, logs that line with "stopped" and exits; SIGTERM
(then SIGKILL) by pid file only if it does not. A later start rescans everything and moves only
what is still misplaced."""
import json
import time
from pathlib import Path
from typing import Any

from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.diagnose import log_size
from nodeagent.gluster.pids import read_pid, running_pid, stop_pid, wait_for
from nodeagent.gluster.processes import write_atomic
from nodeagent.gluster.rebalance_process import (
    dht_name,
    final_status,
    launch,
    new_commit_hash,
    paths,
    process_argv,
    read_run,
    rebalance_argv,
    rebalance_volfile,
)
from nodeagent.gluster.rebalance_rpc import CMD_START_LAYOUT_FIX, CMD_STATUS, CMD_STOP, defrag_rpc
from nodeagent.runner import Runner

__all__ = ["start_rebalance", "rebalance_status", "stop_rebalance", "summarize"]

# gf_defrag_status_t, as the process reports it over its socket
_DEFRAG_STATES = {
    0: "in_progress",  # not started yet: waiting for its bricks to answer
    1: "in_progress", 2: "stopped", 3: "completed", 4: "failed",
    5: "in_progress", 6: "stopped", 7: "completed", 8: "failed",  # the fix-layout variants
}
_FINAL_WORDS = {"completed": "completed", "stopped": "stopped", "failed": "failed"}
_STOP_WAIT = 120.0  # in-flight migrations finish before a stopped process exits


def start_rebalance(layout_root, spec: VolumeSpec, node_uuid: str, runner: Runner, fix_layout_only: bool = False,
                    commit_hash: int | None = None, timeout: float = 30.0) -> int:
    """Start this node's rebalance process for `spec` (its current bricks, new ones included) and
    return its pid; a process already running is kept and its pid returned.

    Every node holding bricks of the volume runs one, with its own node uuid (see the module
    docstring). `fix_layout_only` fixes directory layouts and moves no data. `commit_hash`: leave
    it out for a fresh one per start (safe); pass one value to every node of a run to get
    glusterd's shared commit hash (lookup-optimize works, with upstream's race)."""
    p = paths(layout_root, spec)
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
    return launch(runner, rebalance_argv(layout_root, spec, node_uuid, commit_hash, fix_layout_only),
                   p["pid"], p["sock"], p["log"], f"rebalance of volume {spec.name}", timeout)


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
    p = paths(layout_root, spec)
    run = read_run(p)
    if run is None:
        return _blank("not_started")
    extra = {"command": run.get("command"), "node_uuid": run.get("node_uuid"),
             "commit_hash": run.get("commit_hash"), "started_at": run.get("started_at"),
             "layout_reset": bool(run.get("uncommitted"))}
    pid = running_pid(p["pid"], "glusterfs")
    if pid:
        live = defrag_rpc(run.get("socket", str(p["sock"])), dht_name(spec), CMD_STATUS)
        out = _blank("in_progress", pid) | extra
        if live:
            out["state"] = _DEFRAG_STATES.get(_as_int(live, "status"), "in_progress")
            out |= {"files_scanned": _as_int(live, "lookups"), "files_moved": _as_int(live, "files"),
                    "files_failed": _as_int(live, "failures"), "files_skipped": _as_int(live, "skipped"),
                    "bytes_moved": _as_int(live, "size"), "elapsed_seconds": float(_as_int(live, "run-time"))}
        else:  # starting up (graph not active yet) or exiting: no counters to give
            out["elapsed_seconds"] = round(max(time.time() - float(run.get("started_at", time.time())), 0.0), 1)
        return out
    final = final_status(p["log"], int(run.get("log_offset", 0)))
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
        argv = process_argv(spec, p["volfile"], run["node_uuid"], CMD_START_LAYOUT_FIX, new_commit_hash(),
                     p["uncommit_sock"], p["uncommit_pid"], p["uncommit_log"])
        pid = launch(runner, argv, p["uncommit_pid"], p["uncommit_sock"], p["uncommit_log"],
                      f"layout reset after stopping the rebalance of volume {spec.name}", 30.0)
        run["uncommit_log_offset"] = offset
    if pid:
        wait_for(lambda: running_pid(p["uncommit_pid"], "glusterfs") is None, timeout, 0.2)
        if running_pid(p["uncommit_pid"], "glusterfs"):
            return False  # still crawling: left running (the root's hash was reset when it began)
    final = final_status(p["uncommit_log"], int(run.get("uncommit_log_offset", 0)))
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
    p = paths(layout_root, spec)
    run = read_run(p)
    pid = running_pid(p["pid"], "glusterfs")
    if run is None:
        if pid:  # running without our record of it: a plain stop
            stop_pid(p["pid"], timeout=10.0)
        return rebalance_status(layout_root, spec)
    if pid:
        run["stop_requested"] = True
        write_atomic(p["run"], json.dumps(run))
        answered = defrag_rpc(run.get("socket", str(p["sock"])), dht_name(spec), CMD_STOP) is not None
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
    out: dict[str, Any] = {"state": state, "pid": None, "nodes": per_node}
    for key in ("files_scanned", "files_moved", "files_failed", "files_skipped", "bytes_moved"):
        out[key] = sum(int(n.get(key, 0)) for n in nodes)
    out["elapsed_seconds"] = max(float(n.get("elapsed_seconds", 0.0)) for n in nodes)
    return out
