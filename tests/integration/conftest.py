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
