from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Device(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("node_id", "path", name="uq_device_node_path"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    node_id: str = Field(foreign_key="node.id", index=True, ondelete="CASCADE", max_length=36)
    path: str = Field(max_length=4096)
    kind: str = Field(max_length=16)  # directory | block
    state: str = Field(default="Adding", max_length=16)  # Adding | Ready | Failed | Removing
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    free_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reserved_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))  # promised to planned bricks
    reason: str = Field(default="", max_length=4096)
    task_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
