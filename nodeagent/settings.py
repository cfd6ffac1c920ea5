"""Agent settings: KADALU_* environment variables, overridden by command-line options."""
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_state_dir() -> Path:
    return Path("/var/lib/kadalu/agent") if os.geteuid() == 0 else Path.home() / ".local/share/kadalu/agent"


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KADALU_", extra="ignore")

    url: str = "http://127.0.0.1:8080"  # the control plane
    join_token: str | None = None
    name: str | None = None  # node name; default: the host name
    address: str | None = None  # storage address bricks bind to
    zone: str | None = None  # failure domain label (rack, room): provisioning spreads sets across zones
    volfile_server_port: int = Field(default=24007, ge=1, le=65535)  # glusterd's port: clients know it
    state_dir: Path = Field(default_factory=_default_state_dir)
    broker_url: str | None = None  # override the URL the control plane hands out
    concurrency: int = Field(default=4, ge=1, le=64)
    register_retry_seconds: float = Field(default=300.0, ge=0)
