from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class QuotaLimit(SQLModel, table=True):
    """A quota limit on one directory of a volume (controlplane/services/quota.py), and the usage its
    reporting node last read there (trusted.glusterfs.quota.size). `state`: applying (a task sets it
    on the volume), applied, removing. `previous`: the limit's values before the change being
    applied (None for a new limit), put back if the node cannot apply it."""

    __table_args__ = (UniqueConstraint("volume_id", "path", name="uq_quotalimit_volume_path"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    volume_id: str = Field(foreign_key="volume.id", index=True, ondelete="CASCADE", max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    path: str = Field(max_length=4096)
    hard_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    soft_percent: int | None = None  # None: GlusterFS's default (80%)
    hard_objects: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    state: str = Field(default="applying", max_length=16)
    reason: str = Field(default="", max_length=4096)
    previous: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    used_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    files: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    dirs: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    usage_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
