import shutil

import pytest

from tests.integration.harness import Cluster


@pytest.fixture
def cp(tmp_path):
    """A running control plane (SQLite) with an admin logged in."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    cluster = Cluster(tmp_path)
    try:
        cluster.start()
        cluster.login_admin()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "pg"])
def cp_any_db(request, tmp_path):
    """A running control plane on SQLite, then on PostgreSQL; no user yet."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    url = request.getfixturevalue("pg_database") if request.param == "pg" else None
    cluster = Cluster(tmp_path, database_url=url)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
