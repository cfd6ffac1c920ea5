"""FUSE mounts of a volume from a local client volfile (no volfile server, no glusterd)."""
import errno
import os
from pathlib import Path

from nodeagent.errors import AgentError
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.pids import wait_for
from nodeagent.runner import Runner


def _unescape(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash as octal escapes.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def fuse_mounted(mountpoint: str) -> bool:
    target = os.path.realpath(mountpoint)
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and _unescape(fields[1]) == target and fields[2].startswith("fuse"):
                return True
    return False


def mount_argv(volfile_path: str, volume_name: str, mountpoint: str, log: str) -> list[str]:
    return ["glusterfs", "--process-name", "fuse", "-l", str(log), "--volfile-id", volume_name,
            "-f", str(volfile_path), str(mountpoint)]


def mount(volfile_path: str, volume_name: str, mountpoint: str, log: str, runner: Runner | None = None,
          timeout: float = 20.0) -> None:
    """Mount `volume_name` at `mountpoint` with the client volfile at `volfile_path`.
    Idempotent: an existing FUSE mount there is kept."""
    runner = runner or Runner()
    if fuse_mounted(mountpoint):
        return
    if not os.path.isdir(mountpoint):
        raise AgentError("not_found", f"mount point {mountpoint} does not exist", f"mkdir -p {mountpoint}",
                         errno.ENOENT)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    offset = log_size(Path(log))
    what = f"mount of volume {volume_name} on {mountpoint}"
    done = runner.run(mount_argv(volfile_path, volume_name, mountpoint, log), timeout=timeout)
    if done.returncode != 0:
        raise failure(what, Path(log), offset, f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")
    if not wait_for(lambda: fuse_mounted(mountpoint), timeout):
        raise failure(what, Path(log), offset, f"no FUSE mount within {timeout:g} s")


def umount(mountpoint: str, runner: Runner | None = None) -> None:
    """Unmount; a busy mount is detached lazily (`umount -l`) so teardown never hangs on it.
    The glusterfs client process exits once the kernel drops the mount."""
    runner = runner or Runner()
    if not fuse_mounted(mountpoint):
        return
    done = runner.run(["umount", str(mountpoint)], timeout=30)
    if done.returncode != 0 and fuse_mounted(mountpoint):
        done = runner.run(["umount", "-l", str(mountpoint)], timeout=30)
        if done.returncode != 0 and fuse_mounted(mountpoint):
            raise AgentError("umount_failed", f"cannot unmount {mountpoint}: {done.stderr.strip()}",
                             f"find users with `fuser -vm {mountpoint}`", errno.EBUSY)
