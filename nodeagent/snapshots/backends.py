"""Which backend can snapshot a brick: btrfs when its file system is btrfs, LVM thin when it sits on a
thin logical volume; anything else is refused, saying what the brick is on."""
import errno

from nodeagent.errors import AgentError
from nodeagent.runner import Runner
from nodeagent.snapshots.btrfs import Btrfs, subvolume_root
from nodeagent.snapshots.lvm import LvmThin
from nodeagent.snapshots.mounts import mount_of

Backend = Btrfs | LvmThin


def _looks_like_lv(source: str) -> bool:
    return source.startswith(("/dev/mapper/", "/dev/dm-")) or source.count("/") == 3 and source.startswith("/dev/")


def probe(brick: str, device: str, runner: Runner, mountinfo: str | None = None) -> str:
    """The name of the backend that can snapshot `brick` (inside `device`); AgentError
    "not_snapshottable" with what the brick is on otherwise."""
    m = mount_of(brick, mountinfo)
    if m is None:
        raise AgentError("not_snapshottable", f"no mounted file system holds brick {brick}", "", errno.EINVAL)
    if m.fstype == "btrfs":
        subvolume_root(brick)
        d = mount_of(device, mountinfo)
        if d is None or d.source != m.source:
            raise AgentError("not_snapshottable", f"brick {brick} and its device {device} are on different file systems",
                             "a btrfs snapshot is kept inside the device: register the brick's btrfs file system "
                             "as the device", errno.EXDEV)
        return "btrfs"
    if _looks_like_lv(m.source):
        LvmThin(runner, mountinfo).probe(brick)
        return "lvm-thin"
    raise AgentError("not_snapshottable", f"brick {brick} is on {m.fstype} ({m.source} mounted at {m.point}): snapshots "
                     "need a btrfs file system or an LVM thin volume",
                     "create the volume on bricks on btrfs or on thin LVs (lvcreate --thin) to snapshot it", errno.ENOTSUP)


def backend(name: str, runner: Runner) -> Backend:
    if name == "btrfs":
        return Btrfs(runner)
    if name == "lvm-thin":
        return LvmThin(runner)
    raise AgentError("bad_spec", f"unknown snapshot backend {name!r}", "the control plane and the agent disagree: "
                     "check both versions")
