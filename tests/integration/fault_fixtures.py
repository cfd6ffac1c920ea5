"""Fixtures of the fault suite (tests/integration/test_faults_*.py): a control plane on a private
PostgreSQL server (restartable by the test) with a private redis-server, and agents on 127.0.1.N.
Import the fixtures into a test module by name."""
import json
import shutil
import sys

import pytest
import redis

from contracts import signing
from tests.integration import private_postgres
from tests.integration.harness import Cluster, wait_for

PY_SERVER = ["-m", "controlplane.server_cli"]


@pytest.fixture
def pg():
    if not private_postgres.available():
        pytest.skip("needs root, the postgres user and /usr/lib/postgresql/15/bin (PostgreSQL 15)")
    server = private_postgres.PrivatePostgres()
    try:
        yield server.init()
    finally:
        server.destroy()


@pytest.fixture
def pg_cp(pg, tmp_path):
    """A control plane (api, worker, beat) on the private PostgreSQL, an admin logged in."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    cluster = Cluster(tmp_path, database_url=pg.url)
    try:
        cluster.start()
        cluster.login_admin()
        yield cluster
    finally:
        cluster.stop()


def with_agents(cp, names: tuple[str, ...], cluster: str = "mycluster") -> None:
    cp.join_token = cp.api("POST", "/clusters", json={"name": cluster}).json()["join_token"]
    for i, name in enumerate(names, start=1):
        cp.start_agent(name, f"127.0.1.{i}", cp.join_token)
    wait_for(lambda: cp.node_states(cluster) == {n: "Online" for n in names}, 60, "agents Online", cp.procs.tails)


def start_worker(cp, name: str = "worker") -> None:
    cp.procs.start(name, [sys.executable, *PY_SERVER, "worker"], cp.env)


def start_beat(cp) -> None:
    cp.procs.start("beat", [sys.executable, *PY_SERVER, "beat"], cp.env)


def broker(cp) -> redis.Redis:
    return redis.Redis.from_url(cp.broker_url)


def node_credentials(cp, node: str) -> dict:
    return json.loads((cp.root / "agents" / node / "node.json").read_text())


def signed_by(cp, node: str, payload: dict) -> dict:
    creds = node_credentials(cp, node)
    return signing.sign(creds["node_id"], creds["node_secret"], payload)
