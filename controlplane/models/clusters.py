from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Cluster(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(unique=True, index=True, max_length=64)
    join_token_hash: str = Field(index=True, max_length=64)
    metadata_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class MetadataVersion(SQLModel, table=True):
    """Every version of a cluster's metadata, as the agents received it (backup and recovery)."""

    cluster_id: str = Field(foreign_key="cluster.id", primary_key=True, ondelete="CASCADE", max_length=36)
    version: int = Field(primary_key=True)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
