"""The agent's own mounts for quota work, under its state directory (never a user's mount point):

- the special mount of a volume, `--client-pid -5` (GlusterFS lets only this client pid set and
  read the limit xattrs): kept mounted while the agent needs it, unmounted at agent exit;
- the crawl mount of ONE brick, `--client-pid -100` over a graph holding only that brick's
  protocol/client (glusterd's client_per_brick volfile), mounted for one crawl.

`inside()` turns a quota path into a path under a mount, component by component with lstat, and
refuses a symlink anywhere along it: a directory of the volume may be a symlink pointing out of
the mount, and the agent runs as root."""
import errno
import os
import stat
import threading
from pathlib import Path

from contracts.quota import check_quota_path
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.mount import fuse_mounted, umount
from nodeagent.gluster.pids import wait_for
from nodeagent.gluster.processes import write_atomic
from nodeagent.runner import Runner
from volgen import client_volfile
from volgen.client import protocol_clients
from volgen.graph import render

SPECIAL_PID, CRAWL_PID = "-5", "-100"
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def lock(state_dir: Path) -> threading.Lock:
    """One lock per agent for its quota mounts (the task handler and the quota loop share them)."""
    with _guard:
        return _locks.setdefault(str(Path(state_dir).resolve()), threading.Lock())


def root(state_dir: Path) -> Path:
    return Path(state_dir) / "quota"


def special_mountpoint(state_dir: Path, spec: VolumeSpec) -> Path:
    return root(state_dir) / "mnt" / spec.id


def _mount(volfile: Path, volume_name: str, mnt: Path, logfile: Path, client_pid: str, extra: list[str],
           runner: Runner, timeout: float = 20.0) -> None:
    if fuse_mounted(str(mnt)):
        return
    mnt.mkdir(parents=True, exist_ok=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    offset = log_size(logfile)
    argv = ["glusterfs", "--process-name", "fuse", "-l", str(logfile), "--volfile-id", volume_name,
            "--client-pid", client_pid, *extra, "-f", str(volfile), str(mnt)]
    done = runner.run(argv, timeout=timeout)
    if done.returncode != 0 or not wait_for(lambda: fuse_mounted(str(mnt)), timeout):
        raise failure(f"quota mount of volume {volume_name}", logfile, offset,
                      f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")


def special_mount(state_dir: Path, spec: VolumeSpec, runner: Runner) -> Path:
    """The volume's `--client-pid -5` mount (made if missing; its volfile follows the spec)."""
    base = root(state_dir)
    volfile = base / "volfiles" / f"{spec.id}.vol"
    text = client_volfile(spec)
    mnt = special_mountpoint(state_dir, spec)
    if not volfile.exists() or volfile.read_text() != text:
        write_atomic(volfile, text)
        umount(str(mnt))  # a changed graph (bricks added, options): mount it afresh
    _mount(volfile, spec.name, mnt, base / "logs" / f"{spec.id}.log", SPECIAL_PID, [], runner)
    return mnt


def release(state_dir: Path, spec_id: str) -> None:
    umount(str(root(state_dir) / "mnt" / spec_id))


def release_all(state_dir: Path) -> None:
    mnts = root(state_dir) / "mnt"
    for mnt in sorted(mnts.glob("*")) if mnts.exists() else []:
        try:
            umount(str(mnt))
        except AgentError:
            pass  # busy: detached lazily or left; the next agent start finds it mounted


def brick_volfile(spec: VolumeSpec, brick: BrickSpec) -> str:
    """glusterd's client_per_brick graph: the brick's protocol/client alone."""
    index = next(i for i, b in enumerate(spec.bricks) if b.id == brick.id)
    return render([protocol_clients(spec, "shd")[index]])


def crawl_mount(state_dir: Path, spec: VolumeSpec, brick: BrickSpec, runner: Runner, readdirp: bool) -> Path:
    base = root(state_dir)
    volfile = base / "volfiles" / f"crawl-{brick.id}.vol"
    write_atomic(volfile, brick_volfile(spec, brick))
    mnt = base / "crawl" / brick.id
    _mount(volfile, spec.name, mnt, base / "logs" / f"crawl-{brick.id}.log", CRAWL_PID,
           [f"--use-readdirp={'yes' if readdirp else 'no'}"], runner)
    return mnt


def inside(mnt: Path, path: str) -> Path | None:
    """`path` (a quota path) under `mnt`; None when it does not exist. AgentError when a component
    is a symlink or not a directory."""
    check_quota_path(path)
    here = Path(mnt)
    for name in [p for p in path.split("/") if p]:
        here = here / name
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise AgentError("symlink", f"{path}: {name} is a symbolic link", "limit the directory it points to",
                             errno.ELOOP)
        if not stat.S_ISDIR(st.st_mode):
            raise AgentError("not_a_directory", f"{path}: {name} is not a directory",
                             "quota limits apply to directories", errno.ENOTDIR)
    return here
