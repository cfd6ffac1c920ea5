"""btrfs: a brick's snapshot is a snapshot of the subvolume holding it (the file system's top level
when the brick is a plain directory), placed inside the brick's device, so the device's confinement
holds for it too: <device>/.kadalu-snapshots/<snapshot id>/<brick id>. The snapshot's copy of the
brick is the same relative path inside it. Snapshots are writable subvolumes (an activated snapshot's
bricks write their own bookkeeping; features/read-only keeps clients out), removed with `btrfs
subvolume delete`; a clone is a snapshot of the snapshot under <device>/.kadalu-clones/."""
import errno
import os
import stat

from contracts.snapshot_specs import clone_container, snapshot_container
from nodeagent.errors import AgentError
from nodeagent.runner import Runner

SUBVOLUME_ROOT_INODE = 256  # BTRFS_FIRST_FREE_OBJECTID: the root directory of every subvolume


def is_subvolume(path: str) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_ino == SUBVOLUME_ROOT_INODE


def subvolume_root(path: str) -> str:
    """The root of the subvolume holding `path` (walking up while on the same file system)."""
    real = os.path.realpath(path)
    dev = os.stat(real).st_dev
    current = real
    while True:
        if os.stat(current).st_ino == SUBVOLUME_ROOT_INODE:
            return current
        parent = os.path.dirname(current)
        if parent == current or os.stat(parent).st_dev != dev:
            raise AgentError("not_snapshottable", f"{path}: no btrfs subvolume root above it",
                             "is the brick on btrfs?", errno.EINVAL)
        current = parent


def _inside(root: str, path: str) -> str:
    rel = os.path.relpath(path, root)
    return root if rel == "." else os.path.join(root, rel)


def _make_parent(path: str) -> None:
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    except OSError as exc:
        raise AgentError("backend_failed", f"cannot make {os.path.dirname(path)}: {exc.strerror}",
                         "check the device's file system is writable; remove what is in the way", exc.errno) from exc


class Btrfs:
    name = "btrfs"

    def __init__(self, runner: Runner):
        self.runner = runner

    def _run(self, argv: list[str], what: str) -> None:
        done = self.runner.run(argv, timeout=120)
        if done.returncode != 0:
            raise AgentError("backend_failed", f"{what}: {' '.join(argv[:3])} failed: "
                             f"{(done.stderr or done.stdout).strip()[:500]}",
                             "see the message; check the file system has room and is mounted read-write", errno.EIO)

    def snapshot_brick(self, brick: str, device: str, snapshot_id: str, brick_id: str) -> str:
        """Where the brick's copy is inside its snapshot (nothing is created)."""
        container = snapshot_container(device, snapshot_id, brick_id)
        return _inside(container, os.path.join(container, os.path.relpath(brick, subvolume_root(brick))))

    def take(self, brick: str, device: str, snapshot_id: str, brick_id: str) -> str:
        container = snapshot_container(device, snapshot_id, brick_id)
        if not is_subvolume(container):  # a redelivered task finds it taken
            if os.path.lexists(container):
                raise AgentError("snapshot_path_taken", f"{container} exists and is not a btrfs snapshot",
                                 "nothing was changed; remove it if it is a leftover, then take the snapshot again",
                                 errno.EEXIST)
            _make_parent(container)
            self._run(["btrfs", "subvolume", "snapshot", subvolume_root(brick), container],
                      f"snapshot of brick {brick}")
        return self.snapshot_brick(brick, device, snapshot_id, brick_id)

    def remove(self, device: str, snapshot_id: str, brick_id: str) -> None:
        container = snapshot_container(device, snapshot_id, brick_id)
        if os.path.lexists(container):
            if not is_subvolume(container):
                raise AgentError("not_a_snapshot", f"{container} is not a btrfs snapshot: left alone",
                                 "remove it by hand if it is a leftover", errno.EINVAL)
            self._run(["btrfs", "subvolume", "delete", container], f"removing snapshot {container}")
        try:
            os.rmdir(os.path.dirname(container))  # the snapshot's directory, once its last brick is gone
        except OSError:
            pass

    def clone(self, brick: str, device: str, snapshot_id: str, brick_id: str, clone_volume_id: str) -> str:
        source = snapshot_container(device, snapshot_id, brick_id)
        target = clone_container(device, clone_volume_id, brick_id)
        if not is_subvolume(source):
            raise AgentError("snapshot_missing", f"the snapshot of brick {brick} is not at {source}",
                             "the snapshot was removed or never taken on this node", errno.ENOENT)
        if not is_subvolume(target):
            if os.path.lexists(target):
                raise AgentError("clone_path_taken", f"{target} exists and is not a btrfs subvolume",
                                 "nothing was changed; remove it if it is a leftover", errno.EEXIST)
            _make_parent(target)
            self._run(["btrfs", "subvolume", "snapshot", source, target], f"clone of brick {brick}")
        return _inside(target, os.path.join(target, os.path.relpath(brick, subvolume_root(brick))))
