"""Database engine and sessions (SQLite embedded, PostgreSQL in production)."""
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlmodel import Session, create_engine


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime stores it as UTC on SQLite and PostgreSQL alike."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult; SQLAlchemy's types
    call it a plain Result)."""
    return cast(CursorResult[Any], result).rowcount
