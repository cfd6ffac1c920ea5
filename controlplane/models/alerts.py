from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Alert(SQLModel, table=True):
    """A problem (state `firing` until its condition clears, then `resolved`) or a notice (info,
    stored resolved). One firing row per condition: `open_key` holds the condition's key while the
    alert fires and is NULL once resolved, so the unique constraint allows one open alert per key
    (NULLs never collide) whatever the number of workers raising it."""

    __table_args__ = (UniqueConstraint("cluster_id", "open_key", name="uq_alert_cluster_open_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str | None = Field(default=None, max_length=36)
    volume_id: str | None = Field(default=None, index=True, max_length=36)  # the volume it concerns, if any
    kind: str = Field(max_length=32)  # node_unreachable | brick_down | volume_degraded | ... (docs/operations.md)
    severity: str = Field(default="warning", max_length=16)  # info | warning | critical
    message: str = Field(max_length=4096)
    key: str = Field(default="", max_length=160)  # the condition: kind and what it concerns
    open_key: str | None = Field(default=None, max_length=160)
    state: str = Field(default="firing", index=True, max_length=16)  # firing | resolved
    count: int = 1  # how many times the condition was seen raised while this alert was open
    created_at: datetime = Field(default_factory=utcnow, index=True)
    last_seen_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    # webhook delivery: the state last delivered, and when to try again after a failure
    notified_state: str = Field(default="", max_length=16)
    notify_attempts: int = 0
    notify_after: datetime | None = Field(default=None, index=True)


class JobRun(SQLModel, table=True):
    """When each of beat's jobs last finished: the health check's own liveness, for /metrics."""

    name: str = Field(primary_key=True, max_length=64)
    last_run_at: datetime = Field(default_factory=utcnow)
