"""One session's gsyncd monitor on a master node: start (idempotent; a new config is picked up by
the running monitor, gsyncd re-reads its file when it changes), stop (SIGTERM, then SIGKILL, to its
process group: the workers die with it), pause/resume (SIGSTOP/SIGCONT to the group), delete."""
import errno
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from contracts.georep_specs import GeoRepSessionSpec
from nodeagent.errors import AgentError
from nodeagent.georep import paths
from nodeagent.georep.gsyncd_config import render
from nodeagent.georep.volinfo import write_shim
from nodeagent.gluster.pids import read_pid
from nodeagent.gluster.processes import write_atomic
from nodeagent.runner import Runner


def remote_url(spec: GeoRepSessionSpec) -> str:
    return f"{spec.remote_user}@{spec.remote_host}::{spec.remote_volume}"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return "gsyncd" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def running_pid(state_root, session_id: str) -> int | None:
    pid = read_pid(paths.pid_file(state_root, session_id))
    return pid if _alive(pid) else None


def _mounted(path: Path) -> bool:
    return os.path.ismount(path)


def ensure_meta_mount(state_root, session_id: str, runner: Runner) -> Path:
    """A small tmpfs: gsyncd's meta-volume-mnt must be a real mount point (a bind mount is not)."""
    mnt = paths.meta_mount(state_root, session_id)
    mnt.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _mounted(mnt):
        done = runner.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)], timeout=30)
        if done.returncode != 0:
            raise AgentError("mount_failed", f"could not mount the session's lock tmpfs on {mnt}: {done.stderr.strip()[:300]}",
                             "the agent runs as root and needs tmpfs", errno.EIO)
    (mnt / "geo-rep").mkdir(exist_ok=True, mode=0o700)
    return mnt


def write_files(state_root, spec: GeoRepSessionSpec, address: str) -> Path:
    d = paths.session_dir(state_root, spec.session_id)
    # gsyncd creates only the last directory of its log paths, and not its session directories
    # (glusterd makes those: <workdir>/geo-replication/<master>_<remote host>_<remote volume>)
    name = f"{spec.master.name}_{spec.remote_host}_{spec.remote_volume}"
    for sub in (f"workdir/geo-replication/{name}", "log/geo-replication", "log/geo-replication-secondaries", "run",
                f"misc/{name}"):
        (d / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    write_shim(d / "bin", spec.master, paths.GLUSTERFS)
    conf = paths.config_file(state_root, spec.session_id)
    text = render(state_root, spec, address)
    if not conf.exists() or conf.read_text() != text:
        write_atomic(conf, text)
    return conf


def start(state_root, spec: GeoRepSessionSpec, node_id: str, address: str, runner: Runner, timeout: float = 30.0) -> int:
    conf = write_files(state_root, spec, address)
    ensure_meta_mount(state_root, spec.session_id, runner)
    pid = running_pid(state_root, spec.session_id)
    if pid:
        os.killpg(pid, signal.SIGCONT)  # a paused session that is started again runs
        return pid
    log = paths.session_dir(state_root, spec.session_id) / "log" / "monitor-launch.log"
    argv = [paths.GSYNCD, "monitor", spec.master.name, remote_url(spec), "-c", str(conf), "--local-node-id", node_id]
    with open(log, "ab") as out:
        done = subprocess.run(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, timeout=timeout,
                              start_new_session=True, check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = running_pid(state_root, spec.session_id)
        if pid:
            return pid
        time.sleep(0.2)
    raise AgentError("gsyncd_failed", f"gsyncd monitor of session {spec.session_id} did not start (exit "
                     f"{done.returncode}); see {log}", "check the session's log directory on this node", errno.EIO)


def signal_group(state_root, session_id: str, sig: int) -> bool:
    pid = running_pid(state_root, session_id)
    if not pid:
        return False
    try:
        os.killpg(os.getpgid(pid), sig)
    except ProcessLookupError:
        return False
    return True


def stop(state_root, session_id: str, timeout: float = 15.0) -> None:
    pid = running_pid(state_root, session_id)
    if not pid:
        return
    group = os.getpgid(pid)
    os.killpg(group, signal.SIGCONT)  # a stopped group cannot act on SIGTERM
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(group):
        time.sleep(0.2)
    if _group_alive(group):
        os.killpg(group, signal.SIGKILL)
        while _group_alive(group):
            time.sleep(0.1)
    paths.pid_file(state_root, session_id).unlink(missing_ok=True)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    # zombies of the group count as gone
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def delete(state_root, spec: GeoRepSessionSpec, node_id: str, runner: Runner) -> None:
    stop(state_root, spec.session_id)
    conf = paths.config_file(state_root, spec.session_id)
    if spec.reset_sync_time and conf.exists():
        for brick in [b for b in spec.master.bricks if b.node_id == node_id]:
            runner.run([paths.GSYNCD, "delete", spec.master.name, remote_url(spec), "-c", str(conf), "--path",
                        brick.path, "--reset-sync-time"], timeout=60)
    mnt = paths.meta_mount(state_root, spec.session_id)
    if _mounted(mnt):
        runner.run(["umount", str(mnt)], timeout=30)
    d = paths.session_dir(state_root, spec.session_id)
    if d.exists() and not _mounted(mnt):
        shutil.rmtree(d)
