from datetime import datetime

from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Alert(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str | None = Field(default=None, max_length=36)
    volume_id: str | None = Field(default=None, index=True, max_length=36)  # the volume it concerns, if any
    kind: str = Field(max_length=32)  # node_unreachable | node_online | task_failed
    severity: str = Field(default="warning", max_length=16)
    message: str = Field(max_length=4096)
    created_at: datetime = Field(default_factory=utcnow, index=True)
