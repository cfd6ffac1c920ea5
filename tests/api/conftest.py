"""API tests: the FastAPI app through TestClient, on a real database and the real Redis broker."""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

import controlplane.models  # noqa: F401
from controlplane.api.app import create_app
from controlplane.settings import Settings
from tests.api.volume_helpers import ready_device
from tests.conftest import REDIS_URL
from tests.factories import ApiUser, register_node


def _empty(engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
def settings(database_url, tmp_path):
    return Settings(state_dir=tmp_path / "server", database_url=database_url, broker_url=REDIS_URL,
                    secret_key="test-secret-key", heartbeat_interval=1.0, broker_acl=False,
                    metrics_cache_seconds=0.0)


@pytest.fixture
def client(settings, redis_client):
    app = create_app(settings)
    _empty(app.state.engine)
    with TestClient(app) as c:
        yield c
    _empty(app.state.engine)
    app.state.engine.dispose()  # _empty reconnected after the lifespan's dispose: close it now, not at GC


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser.first_admin(client)


@pytest.fixture
def nodes(client, admin):
    """Cluster c1 with four registered nodes n1..n4 on 127.0.1.1-4, each with a Ready directory device
    /e (bricks go inside a device: n1:/e/b1)."""
    token = admin.make_cluster("c1")
    made = {f"n{i}": register_node(client, token, f"n{i}", f"127.0.1.{i}") for i in (1, 2, 3, 4)}
    for name in made:
        ready_device(client, admin, name, "/e")
    return made


@pytest.fixture
def fresh(database_url, tmp_path):
    """A new, empty database of the test's kind, for `kadalu-server restore` to fill."""
    from tests.api.restore_helpers import FreshDatabase

    db = FreshDatabase(database_url, tmp_path)
    yield db
    db.drop()
