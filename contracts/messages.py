"""Payloads carried by Celery messages between the control plane and node agents (JSON only)."""
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _AgentMessage(BaseModel):
    """Sent by agents: unknown fields are ignored so agents may be upgraded before the server."""

    model_config = ConfigDict(extra="ignore")


class TaskMessage(_Message):
    """Sent to queue node.<node-id>: what to do, never a database row."""

    task_id: str
    node_id: str
    kind: str
    spec: dict[str, Any] = Field(default_factory=dict)
    metadata_version: int = 0


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
    state: str
    files_scanned: int = 0
    files_moved: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    bytes_moved: int = 0
    elapsed_seconds: float = 0.0


class Heartbeat(_AgentMessage):
    node_id: str
    hostname: str = ""
    glusterfs_version: str = ""
    agent_version: str = ""
    metadata_version: int = 0
    sent_at: float = 0.0
    devices: list[DeviceUsage] = Field(default_factory=list, max_length=4096)
    bricks: list[BrickReport] = Field(default_factory=list, max_length=16384)
    rebalances: list[RebalanceReport] = Field(default_factory=list, max_length=4096)
