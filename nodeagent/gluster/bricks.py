"""Brick directories: marking one for a volume, and clearing it when the volume is deleted."""
import errno
import os
import shutil
import uuid

from nodeagent.errors import AgentError

VOLUME_ID_XATTR = "trusted.glusterfs.volume-id"
# Xattrs gluster writes on a brick root. Cleanup removes only these: the directory may also carry
# kadalu's own device marker (trusted.kadalu.*), which belongs to the device, not the volume.
_GLUSTER_XATTR_PREFIXES = ("trusted.glusterfs.", "trusted.gfid", "trusted.afr.", "trusted.ec.")


def _volume_id_on(path: str) -> str | None:
    try:
        raw = os.getxattr(path, VOLUME_ID_XATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise
    return str(uuid.UUID(bytes=raw)) if len(raw) == 16 else raw.hex()


def _stale_hint(path: str) -> str:
    return (f"if the volume that used it is gone, clear it with `setfattr -x {VOLUME_ID_XATTR} {path}` "
            f"and `rm -rf {path}/.glusterfs`, then retry; otherwise pick another path")


def prepare_brick(path: str, volume_id: str) -> None:
    """Make `path` a brick of volume `volume_id`. Idempotent: a brick already marked for this
    volume is left as it is (its data included)."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise AgentError("not_found", f"the parent directory of brick {path} does not exist",
                         f"the device directory {parent} must exist and be mounted; check the device is registered "
                         "and its file system mounted", errno.ENOENT)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise AgentError("mkdir_failed", f"cannot create brick directory {path}: {exc.strerror}",
                         "check the device is writable and not mounted read-only", exc.errno) from exc
    if not os.path.isdir(path):
        raise AgentError("not_a_directory", f"brick path {path} exists and is not a directory",
                         "remove it or choose another brick path", errno.ENOTDIR)
    wanted = str(uuid.UUID(volume_id))
    current = _volume_id_on(path)
    if current is not None and current != wanted:
        raise AgentError("stale_brick", f"{path} is already a brick of volume {current}", _stale_hint(path),
                         errno.EEXIST)
    if current is None:
        _set_volume_id(path, wanted)
    # The index translator refuses to start without its base directory.
    os.makedirs(os.path.join(path, ".glusterfs", "indices"), exist_ok=True)


def _set_volume_id(path: str, volume_id: str) -> None:
    try:
        os.setxattr(path, VOLUME_ID_XATTR, uuid.UUID(volume_id).bytes)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise AgentError("no_xattr", f"the file system holding brick {path} does not support trusted xattrs",
                             "bricks need XFS, ext4 or btrfs (not tmpfs, overlayfs or NFS)", exc.errno) from exc
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise AgentError("permission", f"cannot set trusted xattrs on {path}: {exc.strerror}",
                             "run kadalu-agent as root (trusted.* xattrs need CAP_SYS_ADMIN)", exc.errno) from exc
        raise AgentError("xattr_failed", f"setting {VOLUME_ID_XATTR} on {path} failed: {exc.strerror}", "",
                         exc.errno) from exc


def cleanup_brick(path: str, volume_id: str, purge: bool = False) -> None:
    """Unmark `path` as a brick of `volume_id`: drop gluster's xattrs and `.glusterfs`; with
    `purge`, remove the files too. Idempotent; a brick of another volume is never touched."""
    if not os.path.isdir(path):
        return
    current = _volume_id_on(path)
    if current is not None and current != str(uuid.UUID(volume_id)):
        raise AgentError("brick_in_use", f"{path} is a brick of volume {current}, not {volume_id}",
                         "nothing was removed; check the brick path of the volume being deleted", errno.EBUSY)
    for name in os.listxattr(path):
        if name.startswith(_GLUSTER_XATTR_PREFIXES):
            try:
                os.removexattr(path, name)
            except OSError as exc:
                if exc.errno != errno.ENODATA:
                    raise
    shutil.rmtree(os.path.join(path, ".glusterfs"), ignore_errors=True)
    if purge:
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
