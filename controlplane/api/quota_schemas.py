"""Request and response bodies of the quota endpoints (controlplane/api/routes/volume_quota.py)."""
from datetime import datetime

from pydantic import BaseModel, Field

from controlplane.api.schemas import Request, TaskPublic


class QuotaLimitUsage(Request):
    path: str = Field(max_length=4200, description="a directory of the volume, from its root: /projects/a")
    hard: str = Field(max_length=64, description="the hard limit, a size: 10GiB, 500MB")
    soft: str | None = Field(default=None, max_length=16, description="the soft limit, % of the hard one: 80%")


class QuotaLimitObjects(Request):
    path: str = Field(max_length=4200)
    objects: int = Field(ge=1, le=2**63 - 1, description="files and directories under the path")
    soft: str | None = Field(default=None, max_length=16)


class QuotaRemove(Request):
    path: str = Field(max_length=4200)


class QuotaLimitPublic(BaseModel):
    path: str
    hard_bytes: int | None
    soft_percent: int
    soft_bytes: int | None
    used_bytes: int
    available_bytes: int | None
    hard_objects: int | None
    files: int
    dirs: int
    available_objects: int | None
    soft_exceeded: bool
    hard_exceeded: bool
    state: str  # applying | applied | removing
    reason: str
    usage_at: datetime | None  # when the reporting node last read the usage; None: not yet


class QuotaStatus(BaseModel):
    volume: str
    enabled: bool
    version: int  # features.quota-version: bumped by every enable
    limits: list[QuotaLimitPublic]


class QuotaChange(BaseModel):
    limit: QuotaLimitPublic
    task: TaskPublic
    warnings: list[str] = []
