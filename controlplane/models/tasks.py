from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Task(SQLModel, table=True):
    """One unit of work for one node. Written and committed before its message is sent."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str = Field(foreign_key="node.id", index=True, ondelete="CASCADE", max_length=36)
    kind: str = Field(max_length=32)
    phase: str = Field(default="queued", index=True, max_length=16)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", max_length=4096)
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    volume_id: str | None = Field(default=None, index=True, max_length=36)
    operation_id: str | None = Field(default=None, index=True, max_length=36)  # tasks of one volume request
    attempts: int = 0  # how many times its message was sent
    created_at: datetime = Field(default_factory=utcnow)
    dispatched_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = Field(default=None, index=True)  # /metrics reads a recent window
