"""shared-brick-count for a brick's posix translator: how many bricks of the same volume on this
node sit on the brick's filesystem. storage/posix divides the filesystem's statfs by it, so `df`
on a mount counts a filesystem once, not once per brick on it (three bricks of one volume on one
filesystem showed three times its size without it). glusterd computes the same from each brick's
statfs f_fsid (brickinfo->fs_share_count); the filesystem is known only on the node, hence here."""
import os

from contracts.volume_spec import BrickSpec, VolumeSpec


def _device(path: str) -> int | None:
    """The device of `path`, or of its nearest existing parent: a brick not created yet will be
    on its parent's filesystem (bricks of a node start one at a time, so the first one to start
    must count the others already)."""
    while True:
        try:
            return os.stat(path).st_dev
        except OSError:
            parent = os.path.dirname(path)
            if parent == path:
                return None
            path = parent


def shared_brick_count(spec: VolumeSpec, brick: BrickSpec) -> int:
    """Bricks of `spec` on `brick`'s node whose directory is (or will be) on `brick`'s filesystem;
    at least 1, the brick itself."""
    mine = _device(brick.path)
    if mine is None:
        return 1
    same = [b for b in spec.bricks if b.node_id == brick.node_id and _device(b.path) == mine]
    return max(1, len(same))
