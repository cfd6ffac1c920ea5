"""Device validation on the node: a directory with trusted xattrs, or an unused block device."""
import errno
import os
import stat
from pathlib import Path

from nodeagent.errors import AgentError
from nodeagent.runner import Runner
from nodeagent.state_files import read_json, write_json

MARKER = "trusted.kadalu.device-id"


def usage(path: str) -> tuple[int, int]:
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


def _marker(path: str) -> str | None:
    try:
        return os.getxattr(path, MARKER).decode()
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise


def add_directory(node: str, path: str, device_id: str) -> dict:
    if not os.path.lexists(path):
        raise AgentError("not_found", f"{path} does not exist on node {node}",
                         f"create it first (mkdir -p {path}) on a file system with room for bricks", errno.ENOENT)
    if not os.path.isdir(path):
        raise AgentError("not_a_directory", f"{path} on node {node} is not a directory",
                         "give a directory with --path, or a block device with --device", errno.ENOTDIR)
    holder = _marker(path)
    if holder and holder != device_id:
        raise AgentError(
            "in_use", f"{path} on node {node} is already registered as device {holder}",
            f"if that registration is gone, clear it with `setfattr -x {MARKER} {path}` and add it again", errno.EEXIST,
        )
    try:
        os.setxattr(path, MARKER, device_id.encode())
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise AgentError("no_xattr", f"the file system holding {path} on node {node} does not support trusted xattrs",
                             "use a directory on XFS, ext4 or btrfs (not tmpfs/overlay)", exc.errno) from exc
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise AgentError("permission", f"cannot set trusted xattrs on {path} on node {node}: {exc.strerror}",
                             "run kadalu-agent as root; check the directory is writable and not read-only mounted", exc.errno) from exc
        raise AgentError("xattr_failed", f"setting xattrs on {path} failed: {exc.strerror}", "", exc.errno) from exc
    size, free = usage(path)
    return {"size_bytes": size, "free_bytes": free}


def remove_directory(path: str, device_id: str) -> dict:
    try:
        if _marker(path) == device_id:
            os.removexattr(path, MARKER)
    except FileNotFoundError:
        pass  # already gone: nothing left to unregister
    return {}


class BlockRegistry:
    """Block devices this agent registered (a block device has no xattrs to carry a marker)."""

    def __init__(self, state_dir: Path):
        self.file = Path(state_dir) / "block_devices.json"

    def holder(self, dev: str) -> str | None:
        return read_json(self.file, {}).get(dev)

    def set(self, dev: str, device_id: str | None) -> None:
        data = read_json(self.file, {})
        if device_id is None:
            data.pop(dev, None)
        else:
            data[dev] = device_id
        write_json(self.file, data)


def _mounted_sources() -> set[str]:
    with open("/proc/mounts") as f:
        return {line.split()[0] for line in f}


def block_size(dev: str) -> int:
    fd = os.open(dev, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def add_block(node: str, dev: str, device_id: str, registry: BlockRegistry, runner: Runner) -> dict:
    if not os.path.exists(dev):
        raise AgentError("not_found", f"{dev} does not exist on node {node}", "check the device name with `lsblk`", errno.ENOENT)
    if not stat.S_ISBLK(os.stat(dev).st_mode):
        raise AgentError("not_a_block_device", f"{dev} on node {node} is not a block device",
                         "give a block device with --device, or a directory with --path", errno.ENOTBLK)
    holder = registry.holder(dev)
    if holder and holder != device_id:
        raise AgentError("in_use", f"{dev} on node {node} is already registered as device {holder}",
                         "remove that registration first (`kadalu device remove`)", errno.EEXIST)
    real = os.path.realpath(dev)
    if dev in _mounted_sources() or real in _mounted_sources():
        raise AgentError("mounted", f"{dev} on node {node} is mounted", "unmount it, or pick an unused device", errno.EBUSY)
    probe = runner.run(["blkid", "-p", "-o", "value", "-s", "TYPE", dev])
    if probe.returncode == 0 and probe.stdout.strip():
        raise AgentError("has_signature", f"{dev} on node {node} carries a {probe.stdout.strip()} signature",
                         f"if its data is not needed, wipe it with `wipefs -a {dev}` and add it again", errno.EEXIST)
    size = block_size(dev)
    registry.set(dev, device_id)
    return {"size_bytes": size, "free_bytes": size}


def remove_block(dev: str, device_id: str, registry: BlockRegistry) -> dict:
    if registry.holder(dev) == device_id:
        registry.set(dev, None)
    return {}
