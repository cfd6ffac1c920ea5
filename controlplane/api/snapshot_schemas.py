"""Request and response bodies of the snapshot endpoints (controlplane/api/routes/snapshots.py)."""
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.snapshot_states import SNAPSHOT_USABLE, SnapshotState, snapshot_settled
from controlplane.models import Node, Snapshot, SnapshotSchedule


class SnapshotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume: str = Field(max_length=64)
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=1024)


class SnapshotClone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)  # the new volume


class ScheduleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: str = Field(max_length=16)  # 30m, 1h, 1d...
    keep: int = Field(ge=1, le=1000)


class SnapshotBrickPublic(BaseModel):
    node: str
    origin_path: str
    path: str  # the brick inside the snapshot ("" until taken)
    backend: str


class SnapshotPublic(BaseModel):
    id: str
    name: str
    cluster: str
    volume: str
    description: str
    state: str
    settled: bool
    failed: bool
    usable: bool  # its backend snapshots exist: it can be activated, restored, cloned
    step: str
    reason: str
    mount_name: str | None  # activated: mount it with `kadalu mount -c CLUSTER <mount_name> DIR`
    scheduled: bool
    bricks: list[SnapshotBrickPublic]
    created_at: datetime
    updated_at: datetime
    message: str = ""


class SchedulePublic(BaseModel):
    volume: str
    every: str
    every_seconds: int
    keep: int
    next_run_at: datetime
    last_run_at: datetime | None


def present(snap: Snapshot, cluster: str, volume: str, nodes: dict[str, Node], message: str = "") -> SnapshotPublic:
    origin = {b["id"]: b for b in snap.origin.get("bricks", [])}
    return SnapshotPublic(
        id=snap.id, name=snap.name, cluster=cluster, volume=volume, description=snap.description, state=snap.state,
        settled=snapshot_settled(snap.state), failed=snap.state == SnapshotState.FAILED,
        usable=snap.state in SNAPSHOT_USABLE, step=snap.step, reason=snap.reason,
        mount_name=snap.name if snap.state == SnapshotState.ACTIVATED else None, scheduled=snap.schedule_id is not None,
        bricks=[SnapshotBrickPublic(node=nodes[b["node_id"]].name if b["node_id"] in nodes else b["node_id"],
                                    origin_path=origin.get(b["brick_id"], {}).get("path", ""), path=b.get("path", ""),
                                    backend=b.get("backend", "")) for b in snap.bricks],
        created_at=snap.created_at, updated_at=snap.updated_at, message=message,
    )


def present_schedule(sch: SnapshotSchedule, volume: str, every: str) -> SchedulePublic:
    return SchedulePublic(volume=volume, every=every, every_seconds=sch.every_seconds, keep=sch.keep,
                          next_run_at=sch.next_run_at, last_run_at=sch.last_run_at)
