"""Request and response bodies of geo-replication (controlplane/api/routes/georep.py)."""
from datetime import datetime

from pydantic import BaseModel, Field

from controlplane.api.schemas import Request


class GeoRepCreate(Request):
    master_volume: str = Field(max_length=64)
    remote_volume: str = Field(max_length=64)
    remote_user: str = Field(default="root", max_length=64)
    remote_cluster: str | None = Field(default=None, max_length=64)
    remote_host: str | None = Field(default=None, max_length=253)
    ssh_port: int = Field(default=22, ge=1, le=65535)
    force: bool = False
    start: bool = True


class GeoRepConfigSet(Request):
    name: str = Field(max_length=128)
    value: str = Field(max_length=4096)


class GeoRepConfigReset(Request):
    name: str | None = Field(default=None, max_length=128)  # none: every key


class GeoRepWorkerPublic(BaseModel):
    node: str
    brick: str
    subvol: int
    role: str  # Active | Passive: the control plane's choice
    status: str  # what gsyncd says (Active, Passive, Faulty, Initializing..., Offline)
    crawl_status: str
    last_synced: int
    entry: int
    data: int
    meta: int
    failures: int
    checkpoint_completed: bool
    checkpoint_completion_time: int
    reported_at: datetime | None


class GeoRepPublic(BaseModel):
    id: str
    cluster: str
    master_volume: str
    remote_cluster: str | None
    remote_volume: str
    remote_host: str
    remote_user: str
    ssh_port: int
    state: str
    settled: bool  # no request in flight: what `--wait` waits for
    reason: str
    checkpoint: int  # 0: none set
    config: dict[str, str]
    created_at: datetime
    updated_at: datetime
    message: str = ""
    workers: list[GeoRepWorkerPublic] = Field(default_factory=list)


class GeoRepConfigPublic(BaseModel):
    name: str
    value: str
    default: str
    changed: bool
    type: str
    help: str
    choices: list[str] = Field(default_factory=list)


class GeoRepCheckpoint(BaseModel):
    id: str
    checkpoint: int
    message: str


class GeoRepSshSetup(BaseModel):
    id: str
    remote_user: str
    remote_host: str
    lines: list[str]  # for the remote user's authorized_keys on the remote's nodes
