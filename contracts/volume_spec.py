"""The description of a volume that the control plane plans and node agents (and volgen) read.

Bricks are listed in order; consecutive groups of `set_size` bricks form one replica or disperse
set (a distribute volume has sets of one). For an arbiter volume the last brick of each set is the
arbiter."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VolumeType = Literal["distribute", "replicate", "arbiter", "disperse"]


class BrickSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    node_id: str
    node_name: str
    address: str  # the node's storage address: the brick binds to it, clients connect to it
    path: str
    port: int


class VolumeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # UUID, also written as trusted.glusterfs.volume-id on every brick
    name: str
    type: VolumeType
    replica_count: int = 1  # replicate / arbiter: bricks per set (arbiter included)
    arbiter_count: int = 0  # arbiter: 1
    disperse_count: int = 0  # disperse: bricks per set
    redundancy_count: int = 0  # disperse: bricks a set may lose
    options: dict[str, str] = Field(default_factory=dict)
    bricks: list[BrickSpec]

    @property
    def set_size(self) -> int:
        if self.type == "disperse":
            return self.disperse_count
        if self.type in ("replicate", "arbiter"):
            return self.replica_count
        return 1

    def sets(self) -> list[list[BrickSpec]]:
        n = self.set_size
        return [self.bricks[i : i + n] for i in range(0, len(self.bricks), n)]
