"""Task specs of geo-replication (controlplane/services/georep*.py sends them, nodeagent/georep/ acts).

GEOREP_KEYGEN (each master node holding bricks of the master volume): make the session's ssh key
  pair under the agent's state dir (kept when it exists), and marker's timestamp file on the node's
  master bricks (before the changelog/marker options reach them). data: {"public_key": "ssh-ed25519 ..."}
GEOREP_PREPARE_REMOTE / GEOREP_CLEANUP_REMOTE (each node of the remote volume): write (remove) the
  session's authorized_keys lines for `remote_user`, each with a forced command that runs only
  `gsyncd secondary`, and the `gluster --xml volume info` answer gsyncd asks the remote side for.
  data: {}
GEOREP_START / STOP / PAUSE / RESUME / DELETE (each master node): the gsyncd monitor for the node's
  own master bricks, with its config file under the agent's state dir. START is idempotent and
  also applies a new config; DELETE stops it and removes the session's directory (and key).
  data: {"workers": [GeoRepWorkerReport as dict, ...]} for the node's bricks.
"""
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from contracts import checks, georep_config
from contracts.volume_spec import Address, Name, SafePath, Uuid, VolumeSpec

PUBLIC_KEY_RE = re.compile(r"^ssh-ed25519 [A-Za-z0-9+/]{68}={0,2}$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def check_user(value: str) -> str:
    if not isinstance(value, str) or not USER_RE.fullmatch(value):
        raise ValueError(f"remote user {str(value)[:40]!r} is not a user name (lower-case letters, digits, '_', '-', "
                         "up to 32, starting with a letter or '_')")
    return value


def check_public_key(value: str) -> str:
    if not isinstance(value, str) or not PUBLIC_KEY_RE.fullmatch(value):
        raise ValueError("public key is not one 'ssh-ed25519 <base64>' line")
    return value


RemoteUser = Annotated[str, AfterValidator(check_user)]
PublicKey = Annotated[str, AfterValidator(check_public_key)]


class RemoteBrick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node_id: Uuid
    address: Address
    path: SafePath


class GeoRepKeygenSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: Uuid
    master: VolumeSpec  # the node also makes sure its master bricks have marker's timestamp file


class GeoRepRemoteSpec(BaseModel):
    """PREPARE/CLEANUP_REMOTE on a node of the remote volume."""

    model_config = ConfigDict(extra="forbid")

    session_id: Uuid
    remote_user: RemoteUser
    volume: VolumeSpec  # the remote (secondary) volume
    master_volume: Name
    public_keys: list[PublicKey] = Field(default_factory=list, max_length=4096)
    force: bool = False  # PREPARE: accept a remote volume that already holds files


class GeoRepSessionSpec(BaseModel):
    """START/STOP/PAUSE/RESUME/DELETE on a master node: everything the gsyncd config file needs."""

    model_config = ConfigDict(extra="forbid")

    session_id: Uuid
    master: VolumeSpec
    remote_user: RemoteUser
    remote_host: Address
    remote_volume: Name
    remote_volume_id: Uuid
    remote_bricks: list[RemoteBrick] = Field(default_factory=list, max_length=4096)
    # False: a remote managed elsewhere (glusterd there: its own gluster CLI answers gsyncd)
    remote_in_plane: bool = True
    ssh_port: int = Field(default=22, ge=1, le=65535)
    config: dict[str, str] = Field(default_factory=dict, max_length=64)
    # Subvolume numbers (1-based, gsyncd's) whose lock this node's agent holds: its worker there is Passive.
    passive_subvols: list[int] = Field(default_factory=list, max_length=4096)
    reset_sync_time: bool = False  # DELETE: forget how far syncing got (a new session starts over)

    @field_validator("config")
    @classmethod
    def _configurable(cls, value: dict[str, str]) -> dict[str, str]:
        return georep_config.checked_all(value)


GeoRepReportStatus = Literal["Active", "Passive", "Faulty", "Initializing...", "Created", "Stopped", "Paused", "N/A"]
CrawlStatus = Literal["N/A", "Hybrid Crawl", "History Crawl", "Changelog Crawl"]


class GeoRepWorkerReport(BaseModel):
    """One master brick's worker as gsyncd status shows it (agents report, the control plane checks)."""

    model_config = ConfigDict(extra="forbid")

    session_id: Uuid
    brick_id: Uuid
    status: GeoRepReportStatus = "Initializing..."
    crawl_status: CrawlStatus = "N/A"
    last_synced: int = Field(default=0, ge=0, le=2**40)
    entry: int = Field(default=0, ge=0, le=2**40)
    data: int = Field(default=0, ge=0, le=2**40)
    meta: int = Field(default=0, ge=0, le=2**40)
    failures: int = Field(default=0, ge=0, le=2**40)
    checkpoint_time: int = Field(default=0, ge=0, le=2**40)
    checkpoint_completed: bool = False
    checkpoint_completion_time: int = Field(default=0, ge=0, le=2**40)



def safe_key_comment(session_id: str) -> str:
    return f"kadalu-georep-{checks.check_uuid(session_id)}"
