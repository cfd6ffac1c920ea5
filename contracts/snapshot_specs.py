"""The spec of every snapshot task kind, and where a snapshot's and a clone's bricks lie.

One model for the six kinds (SnapshotTaskSpec); each task names one brick of the origin volume
(`volume`, `brick_id`) on the node it is sent to:
  - SNAPSHOT_PROBE: can this brick be snapshotted? data: {"backend": "btrfs"|"lvm-thin"}; fails with
    code "not_snapshottable" saying why (the file system, a plain LV, no device-mapper...).
  - SNAPSHOT_BARRIER: `enable` on/off the brick's barrier (the brick-op RPC on its -S socket). data: {}
  - SNAPSHOT_TAKE: the backend snapshot of the brick's file system (`backend`), its copy of the brick
    marked with the snapshot's own volume id (`snapshot_id`). data: {"path": the brick inside it}
  - SNAPSHOT_REMOVE: remove that backend snapshot (idempotent: gone is done). data: {}
  - SNAPSHOT_RESTORE: roll the (stopped) brick back to its copy in the snapshot. data: {}
  - SNAPSHOT_CLONE: a writable copy of the snapshot's brick for volume `clone_volume_id`, marked with
    that id. data: {"path": the clone's brick}

The agent derives every path from the brick, the device holding it and the ids (snapshot_brick_path,
clone_brick_path); no path in a message is trusted."""
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from contracts.volume_spec import BrickSpec, Uuid, VolumeSpec

SNAPSHOT_DIR = ".kadalu-snapshots"
CLONE_DIR = ".kadalu-clones"


class SnapshotTaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    brick_id: Uuid
    snapshot_id: Uuid
    backend: Literal["", "btrfs", "lvm-thin"] = ""
    enable: bool = False  # SNAPSHOT_BARRIER
    clone_volume_id: Uuid | None = None  # SNAPSHOT_CLONE

    @property
    def brick(self) -> BrickSpec:
        return next(b for b in self.volume.bricks if b.id == self.brick_id)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> "SnapshotTaskSpec":
        return cls.model_validate(spec)


def snapshot_container(device_path: str, snapshot_id: str, brick_id: str) -> str:
    """Where one brick's backend snapshot lives: inside the device holding the brick."""
    return f"{device_path.rstrip('/')}/{SNAPSHOT_DIR}/{snapshot_id}/{brick_id}"


def clone_container(device_path: str, clone_volume_id: str, brick_id: str) -> str:
    return f"{device_path.rstrip('/')}/{CLONE_DIR}/{clone_volume_id}/{brick_id}"


def clone_brick_path(snapshot_brick_path: str, snapshot_id: str, clone_volume_id: str) -> str:
    """The clone's brick path from the snapshot's (the same place under the clone's own directory)."""
    marker = f"/{SNAPSHOT_DIR}/{snapshot_id}/"
    if marker not in snapshot_brick_path:
        raise ValueError(f"{snapshot_brick_path} is not a brick of snapshot {snapshot_id}")
    return snapshot_brick_path.replace(marker, f"/{CLONE_DIR}/{clone_volume_id}/", 1)
