"""Agent settings: KADALU_* environment variables, overridden by command-line options."""
import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.checks import path_problem, under
from contracts.device_paths import BLOCK_ROOT, DEFAULT_DEVICE_ROOTS, DENIED_ROOTS


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
    broker_master_name: str | None = None  # override the sentinel master name the control plane hands out
    concurrency: int = Field(default=4, ge=1, le=64)
    register_retry_seconds: float = Field(default=300.0, ge=0)
    # Where devices may be (KADALU_DEVICE_ROOTS=/exports,/data or --device-root, repeated): the agent
    # refuses any device outside them. /dev in the list allows block device nodes (never directories).
    device_roots: Annotated[tuple[str, ...], NoDecode] = DEFAULT_DEVICE_ROOTS

    @field_validator("device_roots", mode="before")
    @classmethod
    def _split_roots(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        roots = tuple(dict.fromkeys(r.strip().rstrip("/") or "/" for r in value if r.strip()))
        if not roots:
            raise ValueError("no device roots given: list at least one directory, e.g. KADALU_DEVICE_ROOTS=/exports")
        for root in roots:
            problem = path_problem(root)
            if problem:
                raise ValueError(f"device root {root!r} {problem}")
            inside = [d for d in DENIED_ROOTS if under(root, d)]
            if root != BLOCK_ROOT and inside:
                raise ValueError(f"device root {root!r} is inside the system directory {inside[0]}: give data directories")
        return roots
