"""LVM thin volumes, the glusterd way: `lvcreate -s <vg>/<lv> --setactivationskip n -n <name>` makes
a thin snapshot of the LV holding the brick (only thin LVs: a classic snapshot needs space reserved
up front), mounted (`-o nouuid` for XFS, whose log would refuse the copy's duplicate uuid) at
<device>/.kadalu-snapshots/<snapshot id>/<brick id>; removal unmounts and `lvremove -f`s it. These
machines have no device-mapper: this backend is tested on the exact commands it runs."""
import errno
import os

from contracts.snapshot_specs import clone_container, snapshot_container
from nodeagent.errors import AgentError
from nodeagent.runner import Runner
from nodeagent.snapshots.mounts import Mount, mount_of


def lv_name(kind: str, first_id: str, brick_id: str) -> str:
    """An LV name from ids (LVM allows letters, digits, '+_.-'; at most 127 characters)."""
    return f"kadalu_{kind}_{first_id.replace('-', '')}_{brick_id.replace('-', '')[:12]}"


def _inside(container: str, mount: Mount, brick: str) -> str:
    rel = os.path.relpath(os.path.realpath(brick), mount.point)
    return container if rel == "." else os.path.join(container, rel)


class LvmThin:
    name = "lvm-thin"

    def __init__(self, runner: Runner, mountinfo: str | None = None):
        self.runner, self.mountinfo = runner, mountinfo

    def _run(self, argv: list[str], what: str) -> str:
        done = self.runner.run(argv, timeout=120)
        if done.returncode != 0:
            raise AgentError("backend_failed", f"{what}: {argv[0]} failed: {(done.stderr or done.stdout).strip()[:500]}",
                             "see the message (lvs, dmesg)", errno.EIO)
        return done.stdout

    def _mount(self, brick: str) -> Mount:
        m = mount_of(brick, self.mountinfo)
        if m is None:
            raise AgentError("not_snapshottable", f"no mount holds brick {brick}", "", errno.EINVAL)
        return m

    def logical_volume(self, source: str) -> tuple[str, str, str]:
        """(vg, lv, lv_attr) of the LV at device path `source`."""
        out = self._run(["lvs", "--noheadings", "--separator", ":", "-o", "vg_name,lv_name,lv_attr", source],
                        f"looking up {source}")
        parts = out.strip().split(":")
        if len(parts) < 3:
            raise AgentError("not_snapshottable", f"{source} is not an LVM logical volume", "", errno.EINVAL)
        return parts[0].strip(), parts[1].strip(), parts[2].strip()

    def probe(self, brick: str) -> None:
        m = self._mount(brick)
        vg, lv, attr = self.logical_volume(m.source)
        if not attr.startswith("V"):
            raise AgentError("not_snapshottable", f"brick {brick} is on LV {vg}/{lv}, which is not a thin volume "
                             f"(lv_attr {attr})", "put bricks on thin LVs (lvcreate --thin) or on btrfs", errno.EINVAL)

    def _exists(self, vg: str, name: str) -> bool:
        return self.runner.run(["lvs", "--noheadings", "-o", "lv_name", f"{vg}/{name}"], timeout=60).returncode == 0

    def _mounted(self, path: str) -> bool:
        m = mount_of(path, self.mountinfo)
        return m is not None and m.point.rstrip("/") == path.rstrip("/")

    def _snapshot_and_mount(self, origin: str, name: str, container: str, fstype: str, what: str) -> None:
        if self._mounted(container):
            return  # a redelivered task
        vg = origin.split("/")[0]
        if not self._exists(vg, name):
            self._run(["lvcreate", "-s", origin, "--setactivationskip", "n", "-n", name], what)
        os.makedirs(container, mode=0o700, exist_ok=True)
        self._run(["mount", *(["-o", "nouuid"] if fstype == "xfs" else []), f"/dev/{vg}/{name}", container],
                  f"mounting {what}")

    def snapshot_brick(self, brick: str, device: str, snapshot_id: str, brick_id: str) -> str:
        return _inside(snapshot_container(device, snapshot_id, brick_id), self._mount(brick), brick)

    def take(self, brick: str, device: str, snapshot_id: str, brick_id: str) -> str:
        m = self._mount(brick)
        vg, lv, _ = self.logical_volume(m.source)
        container = snapshot_container(device, snapshot_id, brick_id)
        self._snapshot_and_mount(f"{vg}/{lv}", lv_name("snap", snapshot_id, brick_id), container, m.fstype,
                                 f"snapshot of brick {brick}")
        return _inside(container, m, brick)

    def remove(self, device: str, snapshot_id: str, brick_id: str, vg: str) -> None:
        container = snapshot_container(device, snapshot_id, brick_id)
        if self._mounted(container):
            self._run(["umount", container], f"unmounting {container}")
        name = lv_name("snap", snapshot_id, brick_id)
        if self._exists(vg, name):
            self._run(["lvremove", "-f", f"{vg}/{name}"], f"removing {vg}/{name}")
        for d in (container, os.path.dirname(container)):
            try:
                os.rmdir(d)
            except OSError:
                pass

    def clone(self, brick: str, device: str, snapshot_id: str, brick_id: str, clone_volume_id: str) -> str:
        m = self._mount(brick)
        vg, _, _ = self.logical_volume(m.source)
        container = clone_container(device, clone_volume_id, brick_id)
        self._snapshot_and_mount(f"{vg}/{lv_name('snap', snapshot_id, brick_id)}", lv_name("clone", clone_volume_id, brick_id),
                                 container, m.fstype, f"clone of brick {brick}")
        return _inside(container, m, brick)
