"""The description of a volume that the control plane plans and node agents (and volgen) read.

Bricks are listed in order; consecutive groups of `set_size` bricks form one replica or disperse
set (a distribute volume has sets of one). For an arbiter volume the last brick of each set is the
arbiter.

Every field is checked on parsing, on both sides: ids are canonical UUIDs and names follow the
name rule (both become file names on the node), paths are normalised absolute paths without
whitespace or control characters, option names and values cannot break a volfile line."""
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from contracts import checks

VolumeType = Literal["distribute", "replicate", "arbiter", "disperse"]
Uuid = Annotated[str, AfterValidator(checks.check_uuid)]
Name = Annotated[str, AfterValidator(checks.check_name)]
SafePath = Annotated[str, AfterValidator(checks.check_path)]
Address = Annotated[str, AfterValidator(checks.check_address)]
Credential = Annotated[str, Field(pattern=checks.CREDENTIAL_RE.pattern)]


class BrickSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Uuid
    node_id: Uuid
    node_name: Name
    address: Address  # the node's storage address: the brick binds to it, clients connect to it
    path: SafePath
    port: int = Field(ge=1, le=65535)


class VolumeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Uuid  # also written as trusted.glusterfs.volume-id on every brick
    name: Name
    type: VolumeType
    replica_count: int = Field(default=1, ge=1, le=64)  # replicate / arbiter: bricks per set (arbiter included)
    arbiter_count: int = Field(default=0, ge=0, le=1)  # arbiter: 1
    disperse_count: int = Field(default=0, ge=0, le=64)  # disperse: bricks per set
    redundancy_count: int = Field(default=0, ge=0, le=32)  # disperse: bricks a set may lose
    options: dict[str, str] = Field(default_factory=dict, max_length=256)
    # Credentials clients present to the bricks (auth.login); empty for a spec without them.
    auth_username: Credential = ""
    auth_password: Credential = ""
    bricks: list[BrickSpec] = Field(max_length=4096)

    @field_validator("options")
    @classmethod
    def _safe_options(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            checks.check_option(name, text)
        return value

    @property
    def set_size(self) -> int:
        if self.type == "disperse":
            return self.disperse_count
        if self.type in ("replicate", "arbiter"):
            return self.replica_count
        return 1

    def sets(self) -> list[list[BrickSpec]]:
        n = self.set_size
        if n < 1:
            return []
        return [self.bricks[i : i + n] for i in range(0, len(self.bricks), n)]
