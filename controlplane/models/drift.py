from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow


class NodeReport(SQLModel, table=True):
    """The last drift report (contracts.drift.DriftReport) a node sent, as it was verified: what
    runs on it and lies on its disks, compared with the database by services.drift."""

    node_id: str = Field(foreign_key="node.id", primary_key=True, ondelete="CASCADE", max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    sent_at: float = 0.0  # the agent's clock: an older report never replaces a newer one
    received_at: datetime = Field(default_factory=utcnow)
    digest: str = Field(default="", max_length=64)
    metadata_version: int = 0
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
