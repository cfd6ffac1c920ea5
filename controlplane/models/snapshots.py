from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Snapshot(SQLModel, table=True):
    """A consistent point-in-time copy of a volume's bricks. Its id is also the volume id its bricks
    carry (trusted.glusterfs.volume-id), and the id of the volume row while it is activated."""

    __table_args__ = (UniqueConstraint("cluster_id", "name", name="uq_snapshot_cluster_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    volume_id: str = Field(foreign_key="volume.id", index=True, ondelete="CASCADE", max_length=36)  # the origin
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=1024)
    state: str = Field(default="Creating", max_length=16)  # contracts.snapshot_states.SnapshotState
    reason: str = Field(default="", max_length=8192)
    step: str = Field(default="", max_length=16)  # Creating: contracts.snapshot_states.CREATE_STEPS
    operation_id: str | None = Field(default=None, max_length=36)  # the tasks of the current step
    # The origin volume as it was when the snapshot was taken (VolumeSpec as a dict, without credentials)
    origin: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # One entry per origin brick: {"brick_id", "node_id", "backend", "path" (the brick inside the
    # snapshot, once taken), "taken": bool}
    bricks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    barrier_since: datetime | None = None  # when the barrier went on (the take must end within its timeout)
    schedule_id: str | None = Field(default=None, index=True, max_length=36)  # taken by a schedule
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SnapshotSchedule(SQLModel, table=True):
    """Snapshots of one volume taken by beat every `every_seconds`, the newest `keep` kept."""

    __table_args__ = (UniqueConstraint("volume_id", name="uq_snapshotschedule_volume"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    volume_id: str = Field(foreign_key="volume.id", ondelete="CASCADE", max_length=36)
    every_seconds: int
    keep: int
    next_run_at: datetime = Field(default_factory=utcnow, index=True)
    last_run_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
