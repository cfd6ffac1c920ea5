"""Real API server processes (uvicorn, started as `kadalu-server api` starts it) on one database:
several replicas, each with its own thread pool, answering at the same time, which TestClient
cannot do; and the real server's handling of proxy headers."""
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import controlplane.models  # noqa: F401  (fills SQLModel.metadata)
from controlplane.server_cli import _api_argv
from controlplane.settings import Settings
from tests.conftest import REDIS_URL


def empty_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def api_servers(database_url: str, state_dir: Path, count: int = 2, **settings: str):
    """Start `count` uvicorn processes on `database_url`; yield their base URLs; stop them by pid."""
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KADALU_STATE_DIR": str(state_dir), "KADALU_DATABASE_URL": database_url,
           "KADALU_BROKER_URL": REDIS_URL, "KADALU_SECRET_KEY": "race-test-secret",
           **{f"KADALU_{k.upper()}": v for k, v in settings.items()}}
    procs, urls = [], []
    try:
        for n in range(count):
            port = _free_port()
            log = open(state_dir / f"api-{n}.log", "ab")
            argv = _api_argv(Settings(state_dir=state_dir, api_host="127.0.0.1", api_port=port))  # as `kadalu-server api`
            procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while not all(_healthy(u) for u in urls):
            dead = [p for p in procs if p.poll() is not None]
            logs = "\n".join(f.read_text(errors="replace")[-2000:] for f in state_dir.glob("api-*.log"))
            assert not dead and time.monotonic() < deadline, f"API servers did not start:\n{logs}"
            time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
