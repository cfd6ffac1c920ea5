"""Specs of the brick task kinds (CREATE_BRICK, START_BRICK, STOP_BRICK, DELETE_BRICK) and what
each returns in `data`. The spec carries the whole volume so the agent needs no other lookup.

Spec (all four kinds): {"volume": VolumeSpec as dict, "brick_id": str, "purge": bool, "force": bool}
  - CREATE_BRICK: prepare the brick directory (volume-id xattr, .glusterfs/indices). data: {}
  - START_BRICK: write the brick volfile, start glusterfsd (idempotent: a running brick is kept),
    and make sure this volume's self-heal daemon runs on this node when the volume is
    replicate/arbiter/disperse. data: {"pid": int, "port": int}
  - STOP_BRICK: stop the brick by pid; stop the volume's self-heal daemon on this node when no
    brick of the volume runs here any more. data: {}
  - DELETE_BRICK: stop anything left, remove volfiles and pid files, the volume-id xattr and
    .glusterfs; with purge, the brick directory's content too. data: {"path": str, "data_left": bool}

Agent metadata (what `GET /api/v1/agent/metadata` returns in content["volumes"]): a list of
{"spec": VolumeSpec as dict, "state": volume state}; an agent restarted after a reboot starts the
bricks (on its node) of volumes whose state is "Started", from this local copy alone.
"""
from typing import Any

from pydantic import BaseModel, ConfigDict

from contracts.volume_spec import BrickSpec, VolumeSpec


class BrickTaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    brick_id: str
    purge: bool = False
    force: bool = False
    settle_seconds: float = 0.0  # RESTART_BRICK: wait this long after the brick listens (clients reconnect)

    @property
    def brick(self) -> BrickSpec:
        return next(b for b in self.volume.bricks if b.id == self.brick_id)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> "BrickTaskSpec":
        return cls.model_validate(spec)


class RebalanceTaskSpec(BaseModel):
    """START_REBALANCE / STOP_REBALANCE, sent to every node holding bricks of the volume: each node
    fixes the layout and moves the files sitting on its own bricks. data: the node's rebalance status
    (state, files_scanned, files_moved, files_failed, files_skipped, bytes_moved, elapsed_seconds)."""

    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    fix_layout_only: bool = False
