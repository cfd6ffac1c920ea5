"""A volume's capacity and free space from its bricks' last reports.

A replica set holds as much as its smallest data brick (an arbiter brick stores no file data), a
disperse set as much as its smallest brick times its data bricks (count - redundancy), and a
distribute volume adds up its sets. Bricks report the size and free space of the filesystem they
live on; a volume whose bricks share a filesystem with other data shows that filesystem's free
space, as `df` on a mount would."""
from dataclasses import dataclass

from controlplane.models import Brick, Volume
from controlplane.services import volume_plan


@dataclass(frozen=True)
class Usage:
    size_bytes: int
    free_bytes: int
    reported: bool  # False until every data brick has reported a size

    @property
    def used_bytes(self) -> int:
        return max(0, self.size_bytes - self.free_bytes)

    @property
    def used_fraction(self) -> float | None:
        return self.used_bytes / self.size_bytes if self.reported and self.size_bytes else None


def _data_bricks(volume: Volume, group: list[Brick]) -> list[Brick]:
    if volume.type == "arbiter" and len(group) > 1:
        return group[:-1]  # the last brick of each set is the arbiter
    return group


def usage(volume: Volume, bricks: list[Brick]) -> Usage:
    """`bricks` in volume order (Brick.idx)."""
    size = volume_plan.set_size(volume)
    total = free = 0
    reported = bool(bricks)
    for k in range(0, len(bricks), size):
        data = _data_bricks(volume, bricks[k : k + size])
        sized = [b for b in data if b.size_bytes > 0]
        if len(sized) < len(data):
            reported = False
        if not sized:
            continue
        factor = volume.disperse_count - volume.redundancy_count if volume.type == "disperse" else 1
        total += factor * min(b.size_bytes for b in sized)
        free += factor * min(b.free_bytes for b in sized)
    return Usage(size_bytes=total, free_bytes=min(free, total), reported=reported)
