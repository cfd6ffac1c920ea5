"""Shared fixtures: real databases (SQLite and PostgreSQL) and the real Redis."""
import os
import uuid

import pytest
import redis
from sqlalchemy import create_engine, text

from controlplane.migrate import upgrade

PG_ADMIN_URL = os.environ.get("KADALU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KADALU_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database():
    """A throwaway PostgreSQL database for this test session, dropped at the end."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"kadalu_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kadalu.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "pg"])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(autouse=True)
def _keep_the_umask():
    """A server command run in-process sets its process's private umask (controlplane/state_dir.py);
    the tests after it must not inherit it (a file another uid must read would be unreadable)."""
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)
