"""Device validation on the node: a directory with trusted xattrs, or an unused block device, each
only under the agent's device roots (nodeagent.confinement) and recorded in its own registry."""
import errno
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from contracts.states import DEVICE_IN_USE
from nodeagent.confinement import Confinement
from nodeagent.device_registry import DeviceRegistry
from nodeagent.errors import AgentError
from nodeagent.runner import Runner

log = logging.getLogger(__name__)

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


def _check_free(registry: DeviceRegistry, node: str, path: str, real: str, device_id: str) -> None:
    other = registry.overlapping(real, device_id)
    if other is not None:
        other_id, entry = other
        raise AgentError("in_use", f"{path} on node {node} overlaps device {entry['path']} ({other_id}) this agent "
                         "already accepted", "remove that device first (`kadalu device remove`), or pick a separate "
                         "directory", errno.EEXIST)


def add_directory(node: str, path: str, device_id: str, registry: DeviceRegistry, confinement: Confinement) -> dict:
    real = confinement.check_device(path, "directory")
    if not os.path.lexists(path):
        raise AgentError("not_found", f"{path} does not exist on node {node}",
                         f"create it first (mkdir -p {path}) on a file system with room for bricks", errno.ENOENT)
    if not os.path.isdir(real):
        raise AgentError("not_a_directory", f"{path} on node {node} is not a directory",
                         "give a directory with --path, or a block device with --device", errno.ENOTDIR)
    _check_free(registry, node, path, real, device_id)
    holder = _marker(real)
    if holder and holder != device_id:
        raise AgentError(
            "in_use", f"{path} on node {node} is already registered as device {holder}",
            f"if that registration is gone, clear it with `setfattr -x {MARKER} {path}` and add it again", errno.EEXIST,
        )
    try:
        os.setxattr(real, MARKER, device_id.encode())
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise AgentError("no_xattr", f"the file system holding {path} on node {node} does not support trusted xattrs",
                             "use a directory on XFS, ext4 or btrfs (not tmpfs/overlay)", exc.errno) from exc
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise AgentError("permission", f"cannot set trusted xattrs on {path} on node {node}: {exc.strerror}",
                             "run kadalu-agent as root; check the directory is writable and not read-only mounted",
                             exc.errno) from exc
        raise AgentError("xattr_failed", f"setting xattrs on {path} failed: {exc.strerror}", "", exc.errno) from exc
    registry.put(device_id, path, real, "directory")
    size, free = usage(real)
    return {"size_bytes": size, "free_bytes": free}


def remove_directory(path: str, device_id: str, registry: DeviceRegistry) -> dict:
    """Forget a directory device. Only a device this agent accepted at `path` is touched (its marker
    xattr removed); anything else is just not ours."""
    entry = registry.get(device_id)
    if entry is None or entry["path"] != path:
        return {}
    try:
        if _marker(entry["real_path"]) == device_id:
            os.removexattr(entry["real_path"], MARKER)
    except FileNotFoundError:
        pass  # already gone: nothing left to unregister
    registry.drop(device_id)
    return {}


def _mounted_sources() -> set[str]:
    with open("/proc/mounts") as f:
        return {line.split()[0] for line in f}


def block_size(dev: str) -> int:
    fd = os.open(dev, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def add_block(node: str, dev: str, device_id: str, registry: DeviceRegistry, confinement: Confinement,
              runner: Runner) -> dict:
    real = confinement.check_device(dev, "block")
    if not os.path.exists(real):
        raise AgentError("not_found", f"{dev} does not exist on node {node}", "check the device name with `lsblk`", errno.ENOENT)
    if not stat.S_ISBLK(os.stat(real).st_mode):
        raise AgentError("not_a_block_device", f"{dev} on node {node} is not a block device",
                         "give a block device with --device, or a directory with --path", errno.ENOTBLK)
    _check_free(registry, node, dev, real, device_id)
    mounted = _mounted_sources()
    if dev in mounted or real in mounted:
        raise AgentError("mounted", f"{dev} on node {node} is mounted", "unmount it, or pick an unused device", errno.EBUSY)
    probe = runner.run(["blkid", "-p", "-o", "value", "-s", "TYPE", real])
    if probe.returncode == 0 and probe.stdout.strip():
        raise AgentError("has_signature", f"{dev} on node {node} carries a {probe.stdout.strip()} signature",
                         f"if its data is not needed, wipe it with `wipefs -a {dev}` and add it again", errno.EEXIST)
    size = block_size(real)
    registry.put(device_id, dev, real, "block")
    return {"size_bytes": size, "free_bytes": size}


def remove_block(dev: str, device_id: str, registry: DeviceRegistry) -> dict:
    entry = registry.get(device_id)
    if entry is not None and entry["path"] == dev:
        registry.drop(device_id)
    return {}


def adopted(confinement: Confinement, node_id: str, metadata_devices: list, legacy_blocks: dict[str, str]) -> dict[str, dict]:
    """The devices an agent from before the registry had accepted: directories of this node in the
    local metadata that carry this agent's marker with their id, and the block devices of the old
    block registry; each still under the roots. Used once, to write the first registry."""
    found: dict[str, dict] = {}
    candidates = [(d.get("id"), d.get("path"), d.get("kind")) for d in metadata_devices
                  if isinstance(d, dict) and d.get("node_id") == node_id and d.get("state") in DEVICE_IN_USE]
    candidates += [(device_id, dev, "block") for dev, device_id in legacy_blocks.items()]
    for device_id, path, kind in candidates:
        if not isinstance(device_id, str) or not isinstance(path, str) or kind not in ("directory", "block"):
            continue
        try:
            real = confinement.check_device(path, kind)
            if kind == "directory" and _marker(real) != device_id:
                continue  # not marked by this agent: never accepted here
            if kind == "block" and not stat.S_ISBLK(os.stat(real).st_mode):
                continue
        except (AgentError, OSError) as exc:
            log.warning("device %s (%s) from before the device registry is not adopted: %s", path, device_id,
                        getattr(exc, "message", exc))
            continue
        log.info("adopting device %s (%s), accepted before the device registry existed", path, device_id)
        found[device_id] = {"path": path, "real_path": real, "kind": kind}
    return found


def registry_for(state_dir: Path, confinement: Confinement, node_id: str, load_metadata: Callable[[], dict]) -> DeviceRegistry:
    """The agent's device registry; the first time, written from what an older agent had accepted."""
    registry = DeviceRegistry(state_dir)
    if not registry.exists():
        devices = (load_metadata().get("content", {}) or {}).get("devices", []) or []
        registry.adopt(adopted(confinement, node_id, devices, registry.legacy_blocks()))
    return registry
