"""The drift report: what an agent observes of its node, for the control plane to compare with its
database (controlplane/services/drift.py). Sent to queue `controlplane` as its own signed message
(task name DRIFT_REPORT), apart from the heartbeat: the agent builds it every heartbeat interval and
sends it only when its digest changed, or after REFRESH_SECONDS, so heartbeats stay small.

Observations, never conclusions: the agent says which pid runs, which port it was started on,
what the volume-id xattr holds, the SHA-256 of each volfile on disk; the control plane decides
what is wrong. Everything here is hostile input on the control plane's side: sizes are capped
(MAX_REPORT_BYTES on the signed body, max_length on every list and string) and ids are checked
against the database before anything is believed."""
import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.volume_spec import Uuid

MAX_REPORT_BYTES = 1 << 20  # the signed body; a bigger report is refused unread
REFRESH_SECONDS = 60.0  # an unchanged report is sent again this often (a control plane that lost it catches up)

Sha256 = str  # 64 lowercase hex digits, or "" when the file is missing


class _Observed(BaseModel):
    model_config = ConfigDict(extra="ignore")  # an upgraded agent may add fields


class BrickObserved(_Observed):
    brick_id: Uuid
    volume_id: Uuid
    # the brick directory: ok | missing | not_a_directory | unreadable
    directory: Literal["ok", "missing", "not_a_directory", "unreadable"] = "ok"
    # trusted.glusterfs.volume-id on the brick root: the UUID it holds, "" when absent, "?<hex>" when it is
    # not 16 bytes, "!<errno name>" when it cannot be read
    volume_id_xattr: str = Field(default="", max_length=80)
    has_glusterfs_dir: bool = False  # <brick>/.glusterfs exists (the brick was prepared on this directory)
    pid: int | None = Field(default=None, ge=1)  # the glusterfsd its pid file names, when it runs
    port: int = Field(default=0, ge=0, le=65535)  # --brick-port of that process (0: not running)
    listening: bool = False  # that port accepts TCP on the node's address
    volfile_sha256: Sha256 = Field(default="", max_length=64)


class DaemonObserved(_Observed):
    """A per-volume daemon of this node (the self-heal daemon: name "shd")."""

    volume_id: Uuid
    name: Literal["shd"] = "shd"
    pid: int | None = Field(default=None, ge=1)
    volfile_sha256: Sha256 = Field(default="", max_length=64)


class DeviceObserved(_Observed):
    device_id: Uuid
    path: str = Field(max_length=4096)
    present: bool  # the path exists and is what was registered (a directory, or a block device)


class DriftReport(_Observed):
    node_id: Uuid
    sent_at: float = Field(gt=0)  # the agent's clock: an older report than the stored one is ignored
    metadata_version: int = Field(default=0, ge=0)  # the metadata copy the agent worked from
    digest: str = Field(default="", max_length=64)  # of everything but sent_at (see digest_of)
    bricks: list[BrickObserved] = Field(default_factory=list, max_length=4096)
    daemons: list[DaemonObserved] = Field(default_factory=list, max_length=4096)
    devices: list[DeviceObserved] = Field(default_factory=list, max_length=1024)


def digest_of(report: DriftReport) -> str:
    """SHA-256 of the report's observations (sent_at and digest left out): equal digests, same node state."""
    body = report.model_dump(exclude={"sent_at", "digest"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# shared-brick-count is the one volfile value the node derives from its own filesystems
# (nodeagent/gluster/shared_bricks.py), not from the metadata: the control plane cannot know it.
_NODE_DERIVED = re.compile(r"(?m)^(\s*option shared-brick-count )\d+$")


def volfile_digest(text: str) -> str:
    """SHA-256 of a volfile with its node-derived values blanked: the control plane and the agent
    compute it alike (contracts are shared), so only a difference in the metadata's graph shows."""
    return hashlib.sha256(_NODE_DERIVED.sub(r"\g<1>-", text).encode()).hexdigest()
