"""Helpers for restore tests: a node's signed copy as its agent stores it, a fresh database to restore
into, and `kadalu-server restore` run in-process (typer's CliRunner) against it."""
import json
import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from contracts import metadata_signing
from controlplane.server_cli import app as server_app
from tests.conftest import PG_ADMIN_URL
from tests.factories import API

SECRET_KEY = "test-secret-key"  # tests/api/conftest.py's server key


def agent_copy(client, node: dict) -> dict:
    """The complete copy with the control plane's signature, as the agent saves it in metadata.json."""
    r = client.get(f"{API}/agent/metadata", headers={"Authorization": f"Node {node['node_id']}:{node['node_secret']}"})
    assert r.status_code == 200, r.text
    return {**r.json(), "signature": json.loads(r.headers[metadata_signing.HEADER])}


def write(tmp_path: Path, name: str, copy) -> Path:
    path = tmp_path / name
    path.write_text(copy if isinstance(copy, str) else json.dumps(copy))
    return path


class FreshDatabase:
    """A new, empty database of the same kind as the source's (SQLite file, or a new PostgreSQL database)."""

    def __init__(self, source_url: str, tmp_path: Path):
        self.pg_name = None
        if source_url.startswith("sqlite"):
            self.url = f"sqlite:///{tmp_path / 'restored.db'}"
        else:
            self.pg_name = f"kadalu_restore_{uuid.uuid4().hex[:10]}"
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
            self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.pg_name}"

    def _admin(self, *statements: str) -> None:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            for s in statements:
                conn.execute(text(s))
        eng.dispose()

    def drop(self) -> None:
        if self.pg_name:
            self._admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.pg_name}'",
                        f'DROP DATABASE IF EXISTS "{self.pg_name}"')


def run_server(db_url: str, state_dir: Path, *args: str, secret_key: str = SECRET_KEY):
    env = {"KADALU_DATABASE_URL": db_url, "KADALU_STATE_DIR": str(state_dir), "KADALU_SECRET_KEY": secret_key}
    umask = os.umask(0o022)  # a server command sets the process's private umask (state_dir): not this test process's
    os.umask(umask)
    try:
        return CliRunner().invoke(server_app, list(args), env=env)
    finally:
        os.umask(umask)


def run_restore(db_url: str, state_dir: Path, *args: str, secret_key: str = SECRET_KEY):
    return run_server(db_url, state_dir, "restore", *args, secret_key=secret_key)
