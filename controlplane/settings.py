"""One settings object for every control-plane process (KADALU_* environment variables)."""
import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_state_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/kadalu/server")
    return Path.home() / ".local/share/kadalu/server"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KADALU_", env_file=None, extra="ignore")

    state_dir: Path = Field(default_factory=_default_state_dir)
    database_url: str | None = None  # default: SQLite file in state_dir
    broker_url: str | None = None  # default (kadalu-server up): a private redis-server child
    agent_broker_url: str | None = None  # what agents are told to use; default broker_url
    secret_key: str | None = None  # default: generated once into state_dir/secret.key

    api_host: str = "127.0.0.1"
    api_port: int = 8080

    heartbeat_interval: float = Field(default=5.0, gt=0)
    node_timeout: float | None = Field(default=None, gt=0)  # default: 3 heartbeat intervals
    redispatch_after: float = Field(default=30.0, gt=0)  # a QUEUED task older than this is re-sent
    token_ttl_days: int = Field(default=30, gt=0, le=3650)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger request bodies get HTTP 413

    brick_port_base: int = Field(default=49152, ge=1024, le=65535)
    brick_port_last: int = Field(default=60999, ge=1024, le=65535)
    metrics_token: str | None = None  # lets Prometheus scrape /metrics without a user account
    flower_port: int = 5555
    flower_basic_auth: str | None = None  # "user:password"; default generated into state_dir

    @property
    def effective_node_timeout(self) -> float:
        return self.node_timeout or 3 * self.heartbeat_interval

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'kadalu.db'}"

    @property
    def effective_agent_broker_url(self) -> str | None:
        return self.agent_broker_url or self.broker_url

    @cached_property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _read_or_create_secret(self.state_dir / "secret.key")


def _read_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
