"""One typed spec per task kind: what the control plane sends in a task message's `spec`, and what
the agent accepts. Both sides build and parse specs only through these models (SPEC_MODELS), so
a field no model knows is refused, and every id and path is checked before the agent uses it.

Device kinds (ADD_DEVICE, REMOVE_DEVICE): DeviceTaskSpec. data: {"size_bytes", "free_bytes"} / {}.

Brick kinds (CREATE_BRICK, START_BRICK, STOP_BRICK, RESTART_BRICK, RECONFIGURE_BRICK, DELETE_BRICK); the
spec carries the whole volume so the agent needs no other lookup.

Spec (all six kinds): {"volume": VolumeSpec as dict, "brick_id": str, "purge": bool, "force": bool}
  - CREATE_BRICK: prepare the brick directory (volume-id xattr, .glusterfs/indices). data: {}
  - START_BRICK: write the brick volfile, start glusterfsd (idempotent: a running brick is kept),
    and make sure this volume's self-heal daemon runs on this node when the volume is
    replicate/arbiter/disperse. data: {"pid": int, "port": int}
  - RESTART_BRICK: stop and start the brick on its new graph (a change of shape). data: as START_BRICK
  - RECONFIGURE_BRICK: give the running brick (and this node's self-heal daemon) the volume's new graphs
    in place; done once the brick fetched its new volfile; fails with code "restart_needed" when it
    cannot take it live. data: {"pid": int, "port": int, "applied": "unchanged"|"live"|"started"}
  - STOP_BRICK: stop the brick by pid; stop the volume's self-heal daemon on this node when no
    brick of the volume runs here any more. data: {}
  - DELETE_BRICK: stop anything left, remove volfiles and pid files, the volume-id xattr and
    .glusterfs; with purge, the brick directory's content too. data: {"path": str, "data_left": bool}

Geo-replication kinds (GEOREP_*): contracts/georep_specs.py.

Agent metadata (what `GET /api/v1/agent/metadata` returns in content["volumes"]): a list of
{"spec": VolumeSpec as dict, "state": volume state}; an agent restarted after a reboot starts the
bricks (on its node) of volumes whose state is "Started", from this local copy alone.
"""
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contracts.georep_specs import GeoRepKeygenSpec, GeoRepRemoteSpec, GeoRepSessionSpec
from contracts.quota import MAX_BYTES, check_quota_path
from contracts.snapshot_specs import SnapshotTaskSpec
from contracts.task_kinds import TaskKind
from contracts.volume_spec import BrickSpec, SafePath, Uuid, VolumeSpec

QuotaPath = Annotated[str, AfterValidator(check_quota_path)]


class DeviceTaskSpec(BaseModel):
    """ADD_DEVICE / REMOVE_DEVICE: a directory (`path`) or a block device node under /dev."""

    model_config = ConfigDict(extra="forbid")

    device_id: Uuid
    path: SafePath
    kind: Literal["directory", "block"]


class BrickTaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    brick_id: Uuid
    purge: bool = False
    force: bool = False
    # RESTART_BRICK: wait this long after the brick listens (clients reconnect)
    settle_seconds: float = Field(default=0.0, ge=0.0, le=600.0)

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


class RepairBrickSpec(BaseModel):
    """REPAIR_BRICK (`kadalu cluster verify --repair`, see controlplane/services/drift_repair.py): make
    the node match the database for one brick. `action` "run": the brick's volfile is rewritten from
    `volume` and the brick runs (started if it is not; stopped first if it runs on another port than
    the spec's), and so does the volume's self-heal daemon on this node with its volfile; "stop": the
    brick does not run (a volume the database says is stopped). `restore_volume_id`: write the
    volume-id xattr when the brick root has none but was prepared for a volume (.glusterfs exists);
    an xattr holding another id is never overwritten (the task fails with code foreign_volume_id).
    data: {"pid": int | None, "port": int, "done": [what was changed]}"""

    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    brick_id: Uuid
    action: Literal["run", "stop"] = "run"
    restore_volume_id: bool = False

    @property
    def brick(self) -> BrickSpec:
        return next(b for b in self.volume.bricks if b.id == self.brick_id)


class QuotaLimitSpec(BaseModel):
    """QUOTA_LIMIT (controlplane/services/quota.py), sent to one node holding a brick of the volume:
    on its `--client-pid -5` mount of the volume, `action` "set" writes the limit xattrs of `path`
    (a directory that must exist: code not_found otherwise), "remove" removes them (a path gone
    meanwhile is done). data: {"used_bytes", "files", "dirs"} read on the path, when it exists."""

    model_config = ConfigDict(extra="forbid")

    volume: VolumeSpec
    path: QuotaPath
    action: Literal["set", "remove"] = "set"
    hard_bytes: int | None = Field(default=None, ge=0, le=MAX_BYTES)
    soft_percent: int | None = Field(default=None, ge=1, le=100)
    hard_objects: int | None = Field(default=None, ge=0, le=MAX_BYTES)


SPEC_MODELS: dict[TaskKind, type[BaseModel]] = {
    TaskKind.ADD_DEVICE: DeviceTaskSpec,
    TaskKind.REMOVE_DEVICE: DeviceTaskSpec,
    TaskKind.CREATE_BRICK: BrickTaskSpec,
    TaskKind.START_BRICK: BrickTaskSpec,
    TaskKind.STOP_BRICK: BrickTaskSpec,
    TaskKind.RESTART_BRICK: BrickTaskSpec,
    TaskKind.RECONFIGURE_BRICK: BrickTaskSpec,
    TaskKind.DELETE_BRICK: BrickTaskSpec,
    TaskKind.START_REBALANCE: RebalanceTaskSpec,
    TaskKind.STOP_REBALANCE: RebalanceTaskSpec,
    TaskKind.REPAIR_BRICK: RepairBrickSpec,
    TaskKind.QUOTA_LIMIT: QuotaLimitSpec,
    TaskKind.GEOREP_KEYGEN: GeoRepKeygenSpec,
    TaskKind.GEOREP_PREPARE_REMOTE: GeoRepRemoteSpec,
    TaskKind.GEOREP_CLEANUP_REMOTE: GeoRepRemoteSpec,
    **{k: GeoRepSessionSpec for k in (TaskKind.GEOREP_START, TaskKind.GEOREP_STOP, TaskKind.GEOREP_PAUSE,
                                      TaskKind.GEOREP_RESUME, TaskKind.GEOREP_DELETE)},
    **{kind: SnapshotTaskSpec for kind in (TaskKind.SNAPSHOT_PROBE, TaskKind.SNAPSHOT_BARRIER, TaskKind.SNAPSHOT_TAKE,
                                           TaskKind.SNAPSHOT_REMOVE, TaskKind.SNAPSHOT_RESTORE, TaskKind.SNAPSHOT_CLONE)},
}


def parse_spec(kind: str, spec: Any) -> BaseModel:
    """The typed spec of a task of `kind`; raises ValueError (pydantic's ValidationError) when the
    kind is unknown or the spec does not fit its model."""
    try:
        model = SPEC_MODELS[TaskKind(kind)]
    except (ValueError, KeyError):
        raise ValueError(f"unknown task kind {str(kind)[:40]!r}") from None
    return model.model_validate(spec)
