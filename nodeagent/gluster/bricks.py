"""Brick directories: marking one for a volume, and clearing it when the volume is deleted.

The volume-id xattr is the proof of ownership: a directory holding files but no volume id is
data we do not own (CREATE_BRICK refuses it without force), and only a directory carrying the
id of the volume being deleted is ever cleared or purged. The callers check first that the
brick lies inside a device of this node (nodeagent.confinement); here a brick path that is a
symbolic link is refused, and the purge works through a directory descriptor opened with
O_NOFOLLOW, never following a link out of the brick."""
import errno
import os
import shutil
import stat
import uuid

from nodeagent.errors import AgentError

VOLUME_ID_XATTR = "trusted.glusterfs.volume-id"
# Xattrs gluster writes on a brick root. Cleanup removes only these: the directory may also carry
# kadalu's own device marker (trusted.kadalu.*), which belongs to the device, not the volume.
_GLUSTER_XATTR_PREFIXES = ("trusted.glusterfs.", "trusted.gfid", "trusted.afr.", "trusted.ec.")


def _volume_id_on(path: str | int) -> str | None:
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


def _refuse_symlink(path: str) -> None:
    if os.path.islink(path):
        raise AgentError("symlink", f"brick path {path} is a symbolic link",
                         "a brick must be a real directory: remove the link, or use another brick path", errno.ELOOP)


def _has_entries(path: str | int) -> bool:
    with os.scandir(path) as it:
        return next(it, None) is not None


def prepare_brick(path: str, volume_id: str, force: bool = False) -> None:
    """Make `path` a brick of volume `volume_id`. Idempotent: a brick already marked for this
    volume is left as it is (its data included). An existing directory that holds files but no
    volume id is refused unless `force`: its data is not ours to take over."""
    _refuse_symlink(path)
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
    _refuse_symlink(path)
    if not os.path.isdir(path):
        raise AgentError("not_a_directory", f"brick path {path} exists and is not a directory",
                         "remove it or choose another brick path", errno.ENOTDIR)
    wanted = str(uuid.UUID(volume_id))
    current = _volume_id_on(path)
    if current is not None and current != wanted:
        raise AgentError("stale_brick", f"{path} is already a brick of volume {current}", _stale_hint(path),
                         errno.EEXIST)
    if current is None:
        if not force and _has_entries(path):
            raise AgentError("not_empty", f"brick directory {path} already holds files and belongs to no volume",
                             "kadalu does not take over data it did not create: empty the directory or pick another "
                             "brick path; to use the files as they are, create the volume with --force", errno.ENOTEMPTY)
        _set_volume_id(path, wanted)
    # The index translator refuses to start without its base directory.
    os.makedirs(os.path.join(path, ".glusterfs", "indices"), exist_ok=True)
    touch_marker_timestamp(path)


def touch_marker_timestamp(path: str) -> None:
    """features/marker's timestamp-file (volgen.brick.marker_timestamp_file): geo-replication's xtime
    needs it to exist."""
    stamp = os.path.join(path, ".glusterfs", "marker.tstamp")
    if not os.path.exists(stamp):
        os.makedirs(os.path.dirname(stamp), exist_ok=True)
        with open(stamp, "a"):
            pass


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


def _remove_entry(dir_fd: int, name: str) -> None:
    """Remove `name` inside the directory `dir_fd` without following a symbolic link anywhere: a link
    is unlinked, a directory removed by shutil.rmtree's descriptor-based walk (which does not follow links)."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def cleanup_brick(path: str, volume_id: str, purge: bool = False) -> None:
    """Unmark `path` as a brick of `volume_id`: drop gluster's xattrs and `.glusterfs`; with `purge`,
    remove the files too. Only a directory carrying this volume's id is touched; the id goes last,
    so a task interrupted half-way finds the brick still marked and finishes on redelivery.
    Idempotent: a directory already cleared (no volume id) is left alone, and a purge of one that
    still holds files is refused rather than deleting data that is not proven to be this volume's."""
    _refuse_symlink(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        return  # a file, not a brick directory: nothing of a brick to clear
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link after the check above
            _refuse_symlink(path)
        raise
    try:
        wanted = str(uuid.UUID(volume_id))
        current = _volume_id_on(fd)
        if current is not None and current != wanted:
            raise AgentError("brick_in_use", f"{path} is a brick of volume {current}, not {volume_id}",
                             "nothing was removed; check the brick path of the volume being deleted", errno.EBUSY)
        if current is None:
            if purge and _has_entries(fd):
                raise AgentError("purge_refused", f"{path} holds files but carries no volume id of volume {volume_id}",
                                 "nothing was removed: kadalu purges only a directory it marked for the volume being "
                                 "deleted; delete the volume without --purge and remove the files by hand if they are "
                                 "not needed", errno.EPERM)
            return
        if purge:
            with os.scandir(fd) as entries:
                names = [e.name for e in entries if e.name != ".glusterfs"]
            for name in names:
                _remove_entry(fd, name)
        _remove_entry(fd, ".glusterfs")
        names = [n for n in os.listxattr(fd) if n.startswith(_GLUSTER_XATTR_PREFIXES) and n != VOLUME_ID_XATTR]
        for name in [*names, VOLUME_ID_XATTR]:
            try:
                os.removexattr(fd, name)
            except OSError as exc:
                if exc.errno != errno.ENODATA:
                    raise
    finally:
        os.close(fd)
