"""Request and response bodies. Requests refuse unknown fields."""
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")
UNKNOWN_FIELDS_LISTED = 16


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _not_a_flood_of_unknown_fields(cls, data: Any) -> Any:
        # each unknown field is one validation error: a body of 50,000 would cost a second of CPU
        if isinstance(data, dict) and len(data) > len(cls.model_fields) + UNKNOWN_FIELDS_LISTED:
            raise ValueError(f"the body has {len(data)} fields; this request takes only: "
                             f"{', '.join(cls.model_fields)}")
        return data


class ListOf(BaseModel, Generic[T]):
    data: list[T]
    count: int  # rows in `data`
    next_cursor: str | None = None  # paginated lists: pass as `cursor` for the next page; None on the last


# auth and users
class Credentials(Request):
    username: str = Field(max_length=300)
    password: str = Field(max_length=1024)


class LoginRequest(Credentials):
    # at most KADALU_TOKEN_TTL_DAYS: a longer request gets the server's lifetime (see expires_at)
    expires_in_days: int | None = Field(default=None, gt=0)


class PasswordChange(Request):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class PasswordSet(Request):
    password: str = Field(max_length=1024)


class SessionsRevoked(BaseModel):
    revoked: int


class GrantRequest(Request):
    role: str = Field(max_length=32)
    scope: str = Field(default="all", max_length=32)
    cluster: str | None = Field(default=None, max_length=300)
    name: str | None = Field(default=None, max_length=4400)


class GrantPublic(BaseModel):
    id: str
    role: str
    scope: str
    cluster: str | None
    name: str | None


class UserPublic(BaseModel):
    id: str
    username: str
    created_at: datetime
    grants: list[GrantPublic]


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    user: UserPublic


class Bootstrap(BaseModel):
    needs_first_user: bool


# clusters
class ClusterCreate(Request):
    name: str = Field(max_length=300)


class ClusterPublic(BaseModel):
    id: str
    name: str
    created_at: datetime
    node_count: int
    metadata_version: int


class ClusterStatus(ClusterPublic):
    nodes_by_state: dict[str, int]
    device_count: int
    volume_count: int


class ClusterCreated(BaseModel):
    cluster: ClusterPublic
    join_token: str


class JoinToken(BaseModel):
    join_token: str


# nodes and devices
class NodePublic(BaseModel):
    id: str
    name: str
    address: str
    zone: str
    state: str
    hostname: str
    glusterfs_version: str
    agent_version: str
    last_heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None
    registered_at: datetime
    device_count: int


class DeviceCreate(Request):
    path: str | None = Field(default=None, max_length=4096)
    device: str | None = Field(default=None, max_length=4096)


class DevicePublic(BaseModel):
    id: str
    node: str
    path: str
    kind: str
    state: str
    size_bytes: int
    free_bytes: int
    reason: str
    task_id: str | None
    created_at: datetime


class TaskPublic(BaseModel):
    id: str
    cluster: str
    node: str
    kind: str
    phase: str
    state: str
    spec: dict[str, Any]
    reason: str
    error: dict[str, Any] | None
    result: dict[str, Any] | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DeviceTask(BaseModel):
    device: DevicePublic
    task: TaskPublic | None


class AlertPublic(BaseModel):
    id: str
    cluster: str
    node: str | None
    volume: str | None = None  # the volume the alert concerns (a failed task of that volume)
    kind: str
    severity: str
    message: str
    created_at: datetime
    state: str = "firing"  # firing until its condition clears, then resolved (notices are stored resolved)
    last_seen_at: datetime | None = None  # when the condition was last seen holding
    resolved_at: datetime | None = None
    count: int = 1  # how many times the condition was raised while the alert was open


# agents
class AgentRegister(Request):
    """A new node gives the cluster's join token; a node registered before proves it is that node with
    its current credentials (`node_id`, `node_secret`), and gets new ones (the old stop working)."""

    join_token: str | None = Field(default=None, max_length=256)
    node_id: str | None = Field(default=None, max_length=36)
    node_secret: str | None = Field(default=None, max_length=128)
    name: str = Field(max_length=300)
    address: str = Field(max_length=300)
    hostname: str | None = Field(default=None, max_length=255)
    glusterfs_version: str | None = Field(default=None, max_length=64)
    agent_version: str | None = Field(default=None, max_length=64)
    zone: str | None = Field(default=None, max_length=64)


class RejoinAllowed(BaseModel):
    node: str
    allowed_until: datetime


class RejoinRequest(Request):
    minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class NodeUpdate(Request):
    zone: str = Field(max_length=64)  # "" clears it


class MetadataPublic(BaseModel):
    """The complete copy (contracts/metadata_delta.py)."""

    version: int
    content: dict[str, Any]


class MetadataChanges(BaseModel):
    """The changes after the version an agent holds, oldest first; `version` is the newest's."""

    version: int
    changes: list[dict[str, Any]]


class AgentRegistered(BaseModel):
    node_id: str
    node_secret: str
    key_generation: int  # which generation of the node's secret this is: task messages name it
    cluster_id: str
    cluster_name: str
    broker_url: str
    broker_master_name: str | None = Field(default=None, description=(
        "With a sentinel:// broker URL: the name of the Redis master the sentinels monitor"))
    heartbeat_interval: float  # the metadata: GET /agent/metadata (registration stays small and fast)


# volumes
class VolumeCreate(Request):
    name: str = Field(max_length=300)
    bricks: list[str] = Field(default_factory=list, max_length=2048)
    size: str | None = Field(default=None, max_length=32, description=(
        'Capacity instead of bricks, e.g. "100GiB": bricks are chosen from registered devices. KiB..PiB are '
        'powers of 1024, KB..PB powers of 1000; a bare K, M, G, T or P is refused.'))
    distribute: int | None = Field(default=None, ge=1, le=1024)  # with size: the number of sets
    options: dict[str, str] = Field(default_factory=dict, max_length=64)
    replica: int | None = Field(default=None, ge=1, le=64)
    arbiter: int | None = Field(default=None, ge=0, le=64)
    disperse: int | None = Field(default=None, ge=1, le=64)
    redundancy: int | None = Field(default=None, ge=0, le=64)
    force: bool = False
    start: bool = True


class VolumeStart(Request):
    force: bool = False


class VolumeStop(Request):
    pass


class BrickPublic(BaseModel):
    id: str
    node: str
    address: str
    path: str
    port: int
    set: int
    state: str
    pid: int | None
    online: bool
    size_bytes: int
    free_bytes: int
    reported_at: datetime | None


class VolumePublic(BaseModel):
    id: str
    name: str
    cluster: str
    type: str
    state: str
    settled: bool = True  # no request in flight: what a client waiting on the volume waits for
    failed: bool = False  # the last request failed; `reason` says why
    health: str | None
    replica_count: int
    arbiter_count: int
    disperse_count: int
    redundancy_count: int
    brick_count: int
    set_size: int
    reason: str
    waiting_for: list[str]
    created_at: datetime
    updated_at: datetime
    bricks: list[BrickPublic]
    options: dict[str, str] = {}
    message: str = ""
    # Options just set that change nothing on this volume, one line each with the reason.
    warnings: list[str] = []


class FailurePublic(BaseModel):
    task_id: str
    cluster: str
    volume: str | None
    node: str
    kind: str
    errno: str | None
    code: str
    message: str
    hint: str
    created_at: datetime | None


class VolumeExpand(Request):
    bricks: list[str] = Field(default_factory=list, max_length=2048, description=(
        "The new bricks as NODE:/PATH, whole sets in set order; leave out to have them chosen from registered "
        "devices (one set, or `sets`, or enough sets for `size`)."))
    force: bool = False
    sets: int | None = Field(default=None, ge=1, le=1024, description="Without bricks: how many sets to add (default 1).")
    size: str | None = Field(default=None, max_length=32, description=(
        'Without bricks: the capacity to add, e.g. "+100GiB", as sets of the volume\'s brick size (rounded up). '
        "A volume made with bricks given by path needs it: its new sets are sized from it."))


class PlannedBrickPublic(BaseModel):
    node: str
    path: str
    size_bytes: int
    set: int
    arbiter: bool


class PlanPublic(BaseModel):
    volume: str
    brick_size: int
    set_size: int
    set_count: int
    arbiter_size: int | None
    total_bytes: int
    bricks: list[PlannedBrickPublic]
    notes: list[str]
    lines: list[str]


class OptionsChange(Request):
    set: dict[str, str] = Field(default_factory=dict, max_length=64, description=(
        "Option name -> value, validated against the option table. Sizes: KiB..PiB powers of 1024, "
        "KB..PB powers of 1000, stored as the byte count (GlusterFS reads MB as MiB)."))
    reset: list[str] = Field(default_factory=list, max_length=64)


class OptionPublic(BaseModel):
    name: str
    value: str | None
    default: str | None
    changed: bool
    type: str | None
    accepts: str
    graphs: list[str]
    description: str


class RebalanceStart(Request):
    fix_layout_only: bool = False


class RebalanceNode(BaseModel):
    node: str
    state: str
    files_scanned: int
    files_moved: int
    files_failed: int
    files_skipped: int
    bytes_moved: int
    elapsed_seconds: float
    updated_at: datetime


class RebalanceStatus(BaseModel):
    volume: str
    state: str
    files_scanned: int
    files_moved: int
    files_failed: int
    files_skipped: int
    bytes_moved: int
    elapsed_seconds: float
    nodes: list[RebalanceNode]
