"""Rolling a stopped brick back to its copy in a snapshot: the brick directory's entries are removed
(through a descriptor, never following a link out of it), the copy's are copied in (`cp -a`, hard
links, xattrs and gfid handles kept; reflinks where the file system has them, so btrfs shares the
blocks), and the brick root gets its own volume's id back (the copy carries the snapshot's)."""
import errno
import os
import uuid

from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR, _remove_entry, _volume_id_on
from nodeagent.runner import Runner


def mark(path: str, volume_id: str) -> None:
    """Write `volume_id` as the brick root's trusted.glusterfs.volume-id."""
    os.setxattr(path, VOLUME_ID_XATTR, uuid.UUID(volume_id).bytes)


def rollback(brick: str, copy: str, volume_id: str, snapshot_id: str, runner: Runner) -> None:
    if not os.path.isdir(copy) or os.path.islink(copy):
        raise AgentError("snapshot_missing", f"the snapshot's copy of brick {brick} is not at {copy}",
                         "the snapshot was removed on this node: it cannot be restored", errno.ENOENT)
    if _volume_id_on(copy) != snapshot_id:
        raise AgentError("snapshot_mismatch", f"{copy} is not this snapshot's copy of brick {brick}",
                         "nothing was changed", errno.EINVAL)
    current = _volume_id_on(brick)
    if current not in (None, volume_id):
        raise AgentError("brick_in_use", f"{brick} is a brick of volume {current}, not {volume_id}",
                         "nothing was changed; check the volume's bricks", errno.EBUSY)
    fd = os.open(brick, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in os.listdir(fd):
            _remove_entry(fd, name)
    finally:
        os.close(fd)
    done = runner.run(["cp", "-a", "--reflink=auto", "--", f"{copy}/.", f"{brick}/"], timeout=3600)
    if done.returncode != 0:
        raise AgentError("restore_failed", f"copying {copy} back into {brick} failed: {done.stderr.strip()[:500]}",
                         "the brick is partly restored: restore the snapshot again before starting the volume",
                         errno.EIO)
    mark(brick, volume_id)
