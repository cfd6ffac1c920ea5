"""A real API server process (uvicorn) for tests that need real HTTP: body limits, fuzzing.

Started with the command line `kadalu-server api` uses, and stopped by pid when the test ends,
whatever happened. The broker is the test Redis; no node broker users are made on it.
"""
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import controlplane.models  # noqa: F401  (fills SQLModel.metadata)
from controlplane.embedded_redis import free_port
from controlplane.server_cli import _api_argv
from controlplane.settings import Settings
from tests.conftest import REDIS_URL


def empty_database(url: str) -> None:
    """Delete every row (the session's database may hold rows of earlier tests)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    engine.dispose()


@dataclass
class ApiProcess:
    url: str
    proc: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(server: ApiProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"the API process exited with {server.proc.returncode}:\n{server.tail()}")
        try:
            if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not answer /health within {timeout}s:\n{server.tail()}")


@contextmanager
def api_process(database_url: str, state_dir: Path, **settings: str) -> Iterator[ApiProcess]:
    """Run the API on a free port of 127.0.0.1 against `database_url` (already migrated)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "KADALU_STATE_DIR": str(state_dir),
        "KADALU_DATABASE_URL": database_url,
        "KADALU_BROKER_URL": REDIS_URL,
        "KADALU_SECRET_KEY": "api-process-test-secret",
        "KADALU_BROKER_ACL": "false",  # the shared test Redis: no ACL users on it
        **{f"KADALU_{key.upper()}": value for key, value in settings.items()},
    }
    log = state_dir / "api.log"
    argv = _api_argv(Settings(state_dir=state_dir, api_host="127.0.0.1", api_port=port))  # as `kadalu-server api`
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = ApiProcess(f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait_healthy(server, 60)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
