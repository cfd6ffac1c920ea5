"""One settings object for every control-plane process (KADALU_* environment variables)."""
import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import broker_url
from controlplane import state_dir as private_state


def _default_state_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/kadalu/server")
    return Path.home() / ".local/share/kadalu/server"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KADALU_", env_file=None, extra="ignore")

    state_dir: Path = Field(default_factory=_default_state_dir)
    database_url: str | None = None  # default: SQLite file in state_dir
    broker_url: str | None = None  # default (kadalu-server up): a private redis-server child
    agent_broker_url: str | None = None  # where agents reach the broker; default broker_url (credentials replaced)
    # With sentinel:// broker URLs (Redis Sentinel, docs/high-availability.md): the monitored master's name.
    broker_master_name: str | None = None
    # One Redis ACL user per node (its own queue only). Off only for a broker without ACLs: every
    # agent then shares the control plane's broker login (see docs/security.md).
    broker_acl: bool = True
    broker_sync_interval: float = Field(default=30.0, gt=0)  # how often beat re-asserts the node broker users
    secret_key: str | None = None  # default: generated once into state_dir/secret.key

    api_host: str = "127.0.0.1"
    api_port: int = 8080

    heartbeat_interval: float = Field(default=5.0, gt=0)
    node_timeout: float | None = Field(default=None, gt=0)  # default: 3 heartbeat intervals
    heartbeat_workers: int = Field(default=1, ge=1, le=64)  # processes of `kadalu-server heartbeat-worker`
    heartbeat_batch: int = Field(default=200, ge=1, le=5000)  # heartbeats applied per transaction by one heartbeat worker
    heartbeat_batch_wait: float = Field(default=0.2, gt=0, le=5)  # seconds the first of a batch waits for more
    heartbeat_min_gap: float | None = Field(default=None, ge=0)  # default: half an interval; faster ones are dropped
    redispatch_after: float = Field(default=30.0, gt=0)  # a QUEUED task older than this is re-sent
    metadata_keep_versions: int = Field(default=100, ge=1)  # metadata changes kept as a log (agents behind fetch deltas)
    metadata_snapshot_every: int = Field(default=1000, ge=1)  # changes after the newest snapshot before a new one
    token_ttl_days: int = Field(default=30, gt=0, le=3650)  # also the most a login may ask for

    # Failed logins: after this many within the window, for one user name or one client address,
    # logins are refused for a lock time that doubles from login_lock_seconds up to login_lock_max_seconds.
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_lock_seconds: int = Field(default=60, ge=1)
    login_lock_max_seconds: int = Field(default=900, ge=1)
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger request bodies get HTTP 413

    brick_port_base: int = Field(default=49152, ge=1024, le=65535)
    brick_port_last: int = Field(default=60999, ge=1024, le=65535)
    metrics_token: str | None = None  # lets Prometheus scrape /metrics without a user account
    metrics_cache_seconds: float = Field(default=10.0, ge=0, le=3600)  # /metrics state gauges: snapshot age before a refresh
    metrics_task_window_seconds: int = Field(default=3600, ge=60)  # /metrics task counts and durations: this window

    # Alerts raised from cluster health (controlplane/services/health_alerts.py)
    alert_full_percent: float = Field(default=90.0, gt=0, le=100)  # device or volume used at or above this
    alert_quiet_seconds: float = Field(default=3600.0, gt=0)  # an event alert (task_failed ...) resolves after this quiet time
    # Optional webhook receiving alerts as Alertmanager's webhook payload (version 4), with retries
    alert_webhook_url: str | None = None
    alert_webhook_timeout: float = Field(default=5.0, gt=0)
    alert_webhook_max_attempts: int = Field(default=12, ge=1)  # then the change is dropped (logged)
    alert_webhook_interval: float = Field(default=5.0, gt=0)  # how often beat delivers new changes

    # Web UI (controlplane/web)
    web_session_hours: int = Field(default=12, ge=1, le=24 * 30)  # a browser login lasts this long
    web_refresh_seconds: float = Field(default=5.0, gt=0)  # live pages re-read this often without a change announced
    web_secure_cookie: bool | None = None  # default: Secure when the request came over https
    grafana_url: str | None = None  # e.g. http://grafana:3000: the web UI links to its Kadalu dashboards
    flower_port: int = 5555
    flower_basic_auth: str | None = None  # "user:password"; default generated into state_dir

    @model_validator(mode="after")
    def _check_broker_urls(self) -> "Settings":
        for url in (self.broker_url, self.agent_broker_url):
            if url:
                broker_url.check(url, self.broker_master_name)
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        _parse_networks(value)
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _parse_networks(self.trusted_proxies)

    @property
    def effective_heartbeat_min_gap(self) -> float:
        return self.heartbeat_interval / 2 if self.heartbeat_min_gap is None else self.heartbeat_min_gap

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
        private_state.secure(self.state_dir, self.effective_database_url)
        return _read_or_create_secret(self.state_dir / "secret.key")


def _parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
    return tuple(networks)


def _read_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
