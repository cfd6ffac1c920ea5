from datetime import datetime

from sqlmodel import Field, SQLModel

from controlplane.db import utcnow
from controlplane.models.ids import new_id


class User(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    username: str = Field(unique=True, index=True, max_length=64)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A login token. Only its SHA-256 is stored; the token itself is shown once."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE", max_length=36)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class Grant(SQLModel, table=True):
    """A role on a scope: everything, a cluster, or one node / device / volume in a cluster."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE", max_length=36)
    role: str = Field(max_length=16)  # admin | maintainer | viewer
    scope: str = Field(max_length=16)  # all | cluster | node | device | volume
    cluster_id: str | None = Field(default=None, foreign_key="cluster.id", ondelete="CASCADE", max_length=36)
    resource_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)


class BootstrapClaim(SQLModel, table=True):
    """One row per one-time event; its primary key makes the event happen once, whatever the
    number of API replicas racing for it (the first user is claimed here)."""

    name: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class LoginThrottle(SQLModel, table=True):
    """Failed logins per user name ("user:<name>") and per client address ("addr:<ip>"), kept in the
    database so every API replica applies the same limit."""

    key: str = Field(primary_key=True, max_length=320)
    failures: int = 0
    window_started_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
