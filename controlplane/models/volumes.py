from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Volume(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cluster_id", "name", name="uq_volume_cluster_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    name: str = Field(max_length=64)
    type: str = Field(max_length=16)  # distribute | replicate | arbiter | disperse
    replica_count: int = 1
    arbiter_count: int = 0
    disperse_count: int = 0
    redundancy_count: int = 0
    state: str = Field(default="Creating", max_length=32)  # contracts.states.VolumeState
    reason: str = Field(default="", max_length=8192)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    operation_id: str | None = Field(default=None, max_length=36)  # the request whose tasks decide the state
    start_after_create: bool = True
    resume_state: str = Field(default="", max_length=32)  # where an expand or option change returns to
    expand_from: int | None = None  # a pending expand added the bricks from this index on
    wave: int = 0  # rolling restarts: which brick of every set the current wave restarts
    wave_waits_since: datetime | None = None  # the next wave waits for self-heal to finish since then
    # Client credentials the bricks demand (protocol/server auth.login), generated at create time and
    # carried only in volfiles handed to authorised clients.
    auth_username: str = Field(default_factory=new_id, max_length=36)
    auth_password: str = Field(default_factory=new_id, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Brick(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("node_id", "path", name="uq_brick_node_path"),
        UniqueConstraint("node_id", "port", name="uq_brick_node_port"),  # a port is never given twice
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    volume_id: str = Field(foreign_key="volume.id", index=True, ondelete="CASCADE", max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str = Field(foreign_key="node.id", index=True, ondelete="CASCADE", max_length=36)
    idx: int  # position in the volume: sets are consecutive groups
    path: str = Field(max_length=4096)
    port: int
    state: str = Field(default="Creating", max_length=16)  # the last task's done word, or Failed
    pid: int | None = None
    online: bool = False
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    free_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reported_at: datetime | None = None
    heal_pending: int = 0  # entries waiting for self-heal, from the last heartbeat
    device_id: str | None = Field(default=None, max_length=36)  # provisioned bricks: the device holding it
    reserved_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Rebalance(SQLModel, table=True):
    """Progress of a volume's rebalance on one node, as its agent last reported it."""

    __table_args__ = (UniqueConstraint("volume_id", "node_id", name="uq_rebalance_volume_node"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    volume_id: str = Field(foreign_key="volume.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str = Field(foreign_key="node.id", ondelete="CASCADE", max_length=36)
    state: str = Field(default="not_started", max_length=16)  # not_started|in_progress|completed|stopped|failed
    files_scanned: int = 0
    files_moved: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    bytes_moved: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    elapsed_seconds: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)
