"""btrfs file systems on loop devices, one per test node, mounted inside the test's directory (the
agents' device root). Each is set up and torn down by its exact paths: the image file, the loop
device `losetup --find --show` gave it, the mount point."""
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoopBtrfs:
    image: Path
    mountpoint: Path
    loop: str = ""

    def make(self, size: str = "300M") -> "LoopBtrfs":
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        subprocess.run(["truncate", "-s", size, str(self.image)], check=True)
        subprocess.run(["mkfs.btrfs", "-q", "-f", str(self.image)], check=True, capture_output=True)
        self.loop = subprocess.run(["losetup", "--find", "--show", str(self.image)], check=True, capture_output=True,
                                   text=True).stdout.strip()
        subprocess.run(["mount", "-t", "btrfs", self.loop, str(self.mountpoint)], check=True)
        return self

    def remove(self) -> None:
        """Unmount and detach by the exact paths; safe to call after a partial make."""
        if _mounted(self.mountpoint):
            subprocess.run(["umount", str(self.mountpoint)], check=False)
        if self.loop:
            subprocess.run(["losetup", "-d", self.loop], check=False)
            self.loop = ""
        self.image.unlink(missing_ok=True)


def _mounted(path: Path) -> bool:
    target = str(path.resolve())
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == target for line in f)


def available() -> bool:
    return all(shutil.which(tool) for tool in ("mkfs.btrfs", "btrfs", "losetup")) and Path("/dev/loop-control").exists()
