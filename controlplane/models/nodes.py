from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class Node(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cluster_id", "name", name="uq_node_cluster_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, ondelete="CASCADE", max_length=36)
    name: str = Field(max_length=64)
    address: str = Field(max_length=255)
    state: str = Field(default="Registered", max_length=16)  # Registered | Online | Unreachable
    zone: str = Field(default="", max_length=64)  # failure domain label, for provisioning
    hostname: str = Field(default="", max_length=255)
    glusterfs_version: str = Field(default="", max_length=64)
    agent_version: str = Field(default="", max_length=64)
    secret_generation: int = 1  # part of the derived node secret: bumping it retires the old secret
    allocation_seq: int = 0  # bumped to lock the node while ports and brick paths are planned
    metadata_version: int = 0  # last version the agent reported holding
    registered_at: datetime = Field(default_factory=utcnow)
    last_heartbeat_at: datetime | None = None
    heartbeat_sent_at: float = 0.0  # the agent's clock in the last applied heartbeat: older ones are replays
    rejoin_allowed_until: datetime | None = None  # an admin let a join-token holder take this name over until then
