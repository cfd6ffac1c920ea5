"""Real processes for integration tests: a private redis-server, the control plane (api, worker,
beat) and node agents. Everything started here is stopped by pid, even when a test fails."""
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from controlplane import broker_users, embedded_redis
from controlplane.embedded_redis import free_port, wait_listening

PY = sys.executable


def wait_for(check: Callable[[], Any], timeout: float, what: str, logs: Callable[[], str] = lambda: "") -> Any:
    """Poll until check() is truthy; a bounded wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} after {timeout}s (last: {last!r})\n{logs()}")


class Processes:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self, name: str) -> None:
        self.stop(name, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def tails(self, lines: int = 25) -> str:
        out = []
        for f in sorted(self.log_dir.glob("*.log")):
            text = f.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {f.name}\n" + "\n".join(text))
        return "\n".join(out)


class Cluster:
    """A control plane on this machine, driven over its real HTTP API."""

    def __init__(self, root: Path, database_url: str | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "logs").mkdir(exist_ok=True)
        self.procs = Processes(root / "logs")
        self.redis_port = free_port()
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.brick_port_base = random.randrange(30000, 45000, 100)
        secret_key = "integration-secret"
        self.redis_password = broker_users.controlplane_password(secret_key)
        self.broker_url = f"redis://{broker_users.CONTROLPLANE_USER}:{self.redis_password}@127.0.0.1:{self.redis_port}/0"
        self.env = {
            **os.environ,
            "KADALU_STATE_DIR": str(root / "server"),
            "KADALU_DATABASE_URL": database_url or f"sqlite:///{root / 'server' / 'kadalu.db'}",
            "KADALU_BROKER_URL": self.broker_url,
            "KADALU_SECRET_KEY": secret_key,
            "KADALU_BROKER_SYNC_INTERVAL": "2",
            "KADALU_API_PORT": str(self.api_port),
            "KADALU_HEARTBEAT_INTERVAL": "1",
            "KADALU_NODE_TIMEOUT": "4",
            "KADALU_REDISPATCH_AFTER": "3",
            "KADALU_METRICS_CACHE_SECONDS": "0",  # a scrape reads the state now (tests look for a change at once)
            # a port range of its own, so bricks of another run on this machine never collide
            "KADALU_BRICK_PORT_BASE": str(self.brick_port_base),
            "KADALU_BRICK_PORT_LAST": str(self.brick_port_base + 99),
        }
        self.token: str | None = None

    # processes
    def start_redis(self) -> None:
        """A private broker set up as the embedded one is: ACL file, `default` off, the control plane's user."""
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        embedded_redis.write_acl_file(data / "users.acl", broker_users.CONTROLPLANE_USER, self.redis_password)
        self.procs.start("redis", embedded_redis.argv("redis-server", self.redis_port, data, appendonly=False), self.env)
        assert wait_listening("127.0.0.1", self.redis_port, 10), "redis-server did not start"

    def restart_redis_empty(self) -> None:
        """Kill the broker and start it with nothing: no messages, and no node users (beat re-creates them)."""
        self.procs.kill("redis")
        wait_for(lambda: not _listening(self.redis_port), 10, "redis to stop")
        (self.root / "redis" / "users.acl").unlink(missing_ok=True)
        self.start_redis()

    def start(self) -> "Cluster":
        self.start_redis()
        server = [PY, "-m", "controlplane.server_cli"]
        self.procs.start("api", [*server, "api"], self.env)
        self.procs.start("worker", [*server, "worker"], self.env)
        self.procs.start("heartbeats", [*server, "heartbeat-worker"], self.env)
        self.procs.start("beat", [*server, "beat"], self.env)
        wait_for(self._healthy, 60, "the API to answer", self.procs.tails)
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def start_agent(self, name: str, address: str, join_token: str) -> None:
        """An agent as on a storage node: it knows the API and the join token, never the server's
        settings (KADALU_BROKER_URL there is the control plane's own broker login; an agent reads
        that variable as an override and must instead use the login registration hands it)."""
        env = {k: v for k, v in self.env.items() if not k.startswith("KADALU_")}
        env |= {"KADALU_URL": self.url, "KADALU_JOIN_TOKEN": join_token}
        argv = [PY, "-m", "nodeagent.main", "--name", name, "--address", address,
                "--state-dir", str(self.root / "agents" / name), "--device-root", str(self.root)]
        self.procs.start(f"agent-{name}", argv, env)

    def kill_agent(self, name: str) -> None:
        self.procs.kill(f"agent-{name}")

    def stop(self) -> None:
        """Unmount what tests mounted, stop every brick/self-heal daemon by its pid file, then the processes."""
        from nodeagent.gluster.mount import fuse_mounted, umount
        from nodeagent.gluster.pids import stop_pid

        for mnt in sorted((self.root / "mnt").glob("*")) if (self.root / "mnt").exists() else []:
            if fuse_mounted(str(mnt)):
                umount(str(mnt))
        for pidfile in sorted((self.root / "agents").glob("*/run/*.pid")):
            stop_pid(pidfile)
        self.procs.stop_all()

    # API
    def login_admin(self) -> None:
        body = {"username": "admin", "password": "password-123"}
        httpx.post(f"{self.url}/api/v1/auth/first-user", json=body).raise_for_status()
        self.token = httpx.post(f"{self.url}/api/v1/auth/login", json=body).json()["token"]

    def api(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kw)

    def node_states(self, cluster: str) -> dict[str, str]:
        rows = self.api("GET", f"/clusters/{cluster}/nodes", params={"limit": 1000}).json()["data"]
        return {n["name"]: n["state"] for n in rows}

    def task(self, task_id: str) -> dict:
        return self.api("GET", f"/tasks/{task_id}").json()

    def wait_task_done(self, task_id: str, timeout: float = 60) -> dict:
        return wait_for(lambda: (t := self.task(task_id))["phase"] in ("done", "failed") and t, timeout,
                        f"task {task_id} to finish", self.procs.tails)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
