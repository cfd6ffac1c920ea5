"""Payloads carried by Celery messages between the control plane and node agents (JSON only).

Every payload travels inside a signed envelope (contracts.signing): task messages are signed by
the control plane with the target node's secret, everything an agent sends with its own. The
fields are pinned by tests/unit/test_message_contract.py and tests/unit/contract/*.json: a change
to the wire format is a visible decision there."""
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.georep_specs import GeoRepWorkerReport
from contracts.states import REBALANCE_REPORTED, RebalanceState
from contracts.task_kinds import TaskKind
from contracts.volume_spec import Uuid

# Bumped when a task message changes in a way an older agent would misread: an agent refuses
# messages of another version (and reports why) rather than guess.
PROTOCOL_VERSION = 2


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _AgentMessage(BaseModel):
    """Sent by agents: unknown fields are ignored so agents may be upgraded before the server."""

    model_config = ConfigDict(extra="ignore")


class TaskMessage(_Message):
    """Sent to queue node.<node-id>: what to do, never a database row. `spec` is the kind's model
    from contracts.task_specs, dumped; `issued_at` (the control plane's clock) lets the agent refuse
    a message older than its maximum age; `key_generation` names the node secret that signed it."""

    protocol: int = PROTOCOL_VERSION
    task_id: Uuid
    node_id: Uuid
    kind: TaskKind
    spec: dict[str, Any] = Field(default_factory=dict)
    issued_at: float = Field(gt=0)
    key_generation: int = Field(ge=1)
    metadata_version: int = Field(default=0, ge=0)


class TaskRejected(_AgentMessage):
    """An agent refused a task message before acting on it (see nodeagent/message_guard.py): the
    control plane records why and re-sends the task when the refusal was only about its age or key."""

    node_id: str
    task_id: str | None = None  # only a canonical UUID is ever reported
    code: str  # wrong_node | bad_signature | stale_key | malformed | protocol | expired | future
    message: str = Field(default="", max_length=1024)


class TaskError(_AgentMessage):
    code: str  # short machine name, e.g. "not_a_directory"
    errno: str | None = None  # e.g. "ENOENT"
    message: str
    hint: str = ""


class TaskResult(_AgentMessage):
    """Returned by the agent task and applied by the control-plane worker."""

    task_id: str
    node_id: str
    ok: bool
    data: dict[str, Any] = Field(default_factory=dict)
    error: TaskError | None = None


class TaskProgress(_AgentMessage):
    task_id: str
    node_id: str
    phase: str = "running"


class DeviceUsage(_AgentMessage):
    device_id: str
    path: str
    size_bytes: int
    free_bytes: int


class BrickReport(_AgentMessage):
    """What the agent sees of one of its bricks (from its pid file and a TCP probe of the port)."""

    brick_id: str
    volume_id: str
    pid: int | None = None
    online: bool = False
    port: int = 0
    size_bytes: int = 0
    free_bytes: int = 0
    heal_pending: int = 0  # entries in the brick's heal indices: 0 means nothing waits for self-heal


class RebalanceReport(_AgentMessage):
    volume_id: str
    state: RebalanceState  # one of REBALANCE_REPORTED: an unknown word is refused here, at the edge
    files_scanned: int = 0
    files_moved: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    bytes_moved: int = 0
    elapsed_seconds: float = 0.0

    @field_validator("state")
    @classmethod
    def _an_agent_word(cls, value: RebalanceState) -> RebalanceState:
        if value not in REBALANCE_REPORTED:
            raise ValueError(f"an agent reports one of {sorted(REBALANCE_REPORTED)}, not {value!r}")
        return value


class QuotaUsageReport(_AgentMessage):
    """A limited directory's usage as the volume's reporting node read it (trusted.glusterfs.quota.size)."""

    volume_id: str
    path: str = Field(max_length=4096)
    used_bytes: int = Field(default=0, ge=0, le=2**63 - 1)
    files: int = Field(default=0, ge=0, le=2**63 - 1)
    dirs: int = Field(default=0, ge=0, le=2**63 - 1)


class Heartbeat(_AgentMessage):
    node_id: str
    hostname: str = ""
    glusterfs_version: str = ""
    agent_version: str = ""
    metadata_version: int = 0
    sent_at: float = Field(gt=0)  # the agent's clock: older than the last applied one means a replay
    devices: list[DeviceUsage] = Field(default_factory=list, max_length=4096)
    bricks: list[BrickReport] = Field(default_factory=list, max_length=16384)
    rebalances: list[RebalanceReport] = Field(default_factory=list, max_length=4096)
    quota_usage: list[QuotaUsageReport] = Field(default_factory=list, max_length=16384)
    georep: list[GeoRepWorkerReport] = Field(default_factory=list, max_length=16384)  # gsyncd workers of its bricks
