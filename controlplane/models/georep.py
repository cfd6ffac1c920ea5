from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class GeoRepSession(SQLModel, table=True):
    """A geo-replication session from a master volume of this cluster to a remote volume: of another
    cluster of this control plane (remote_cluster_id) or of one managed elsewhere (remote_host)."""

    __tablename__ = "georepsession"
    __table_args__ = (UniqueConstraint("master_volume_id", "remote_key", name="uq_georep_master_remote"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    master_volume_id: str = Field(foreign_key="volume.id", index=True, ondelete="CASCADE", max_length=36)
    remote_cluster_id: str | None = Field(default=None, foreign_key="cluster.id", index=True, ondelete="CASCADE",
                                          max_length=36)
    remote_volume_id: str | None = Field(default=None, max_length=36)  # a remote volume of this control plane
    remote_volume: str = Field(max_length=64)
    remote_host: str = Field(default="", max_length=253)  # the address the master nodes ssh to
    remote_user: str = Field(max_length=32)
    remote_key: str = Field(max_length=400)  # "<remote cluster id or host>::<remote volume>": one session per pair
    ssh_port: int = 22
    state: str = Field(default="Creating", max_length=32)  # contracts.states.GeoRepState
    reason: str = Field(default="", max_length=8192)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    public_keys: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # node id -> key
    start_after_create: bool = True
    force: bool = False  # created with --force: the remote volume may hold files
    operation_id: str | None = Field(default=None, max_length=36)  # the request whose tasks decide the state
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GeoRepWorker(SQLModel, table=True):
    """One master brick's gsyncd worker: the role the control plane gave it and what its agent reported."""

    __tablename__ = "georepworker"
    __table_args__ = (UniqueConstraint("session_id", "brick_id", name="uq_georep_worker_brick"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    session_id: str = Field(foreign_key="georepsession.id", index=True, ondelete="CASCADE", max_length=36)
    brick_id: str = Field(foreign_key="brick.id", ondelete="CASCADE", max_length=36)
    node_id: str = Field(foreign_key="node.id", ondelete="CASCADE", max_length=36)
    subvol: int = 1  # gsyncd's subvolume number of the brick's set (1-based)
    role: str = Field(default="Passive", max_length=16)  # Active | Passive: the control plane's choice
    status: str = Field(default="Created", max_length=32)  # contracts.states.GeoRepWorkerStatus, as reported
    crawl_status: str = Field(default="N/A", max_length=32)
    last_synced: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    entry: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    data: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    meta: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    failures: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    checkpoint_completed: bool = False
    checkpoint_completion_time: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reported_at: datetime | None = None
