from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Cluster(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(unique=True, index=True, max_length=64)
    join_token_hash: str = Field(index=True, max_length=64)
    metadata_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class MetadataChange(SQLModel, table=True):
    """One metadata version: what changed in it (contracts/metadata_delta.py), an append-only log."""

    cluster_id: str = Field(foreign_key="cluster.id", primary_key=True, ondelete="CASCADE", max_length=36)
    version: int = Field(primary_key=True)
    change: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class MetadataSnapshot(SQLModel, table=True):
    """A compacted complete copy of a cluster's metadata at `version` (gzip-compressed JSON); the
    complete copy at any later version is this plus the changes after it."""

    cluster_id: str = Field(foreign_key="cluster.id", primary_key=True, ondelete="CASCADE", max_length=36)
    version: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size_bytes: int = 0  # uncompressed
    created_at: datetime = Field(default_factory=utcnow)
