"""Failed-login throttling per user name and per client address.

Counters live in the database (LoginThrottle) so every API replica applies one limit. Each attempt
is counted BEFORE the password is checked, under a row lock, and given back when it succeeds: a
burst of parallel guesses is counted one by one and cannot slip past the limit while the first
guesses are still being checked. Unknown user names are counted like known ones, so a 429 tells an
attacker nothing about which names exist.
"""
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from controlplane.db import rowcount, utcnow
from controlplane.models import LoginThrottle
from controlplane.services.errors import TooManyRequests

PURGE_CHANCE = 0.01  # share of attempts that also delete long-quiet counters (keeps the table small)


@dataclass(frozen=True)
class Limits:
    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=1)
    lock_max: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(per_user=settings.login_max_failures_per_user, per_address=settings.login_max_failures_per_address,
                   window=timedelta(seconds=settings.login_failure_window_seconds),
                   lock=timedelta(seconds=settings.login_lock_seconds),
                   lock_max=timedelta(seconds=max(settings.login_lock_max_seconds, settings.login_lock_seconds)))

    def lock_time(self, past_limit: int) -> timedelta:
        """The first lock lasts `lock`; each further failure before a quiet window doubles it, up to `lock_max`."""
        return min(self.lock * 2 ** min(past_limit, 32), self.lock_max)


def user_key(username: str) -> str:
    return f"user:{username}"[:320]


def address_key(address: str) -> str:
    return f"addr:{address}"[:320]


def begin_attempt(session: Session, limits: Limits, username: str, address: str) -> None:
    """Count one attempt for the user name and the address, and commit; raise TooManyRequests
    (nothing counted) while either is locked."""
    now = utcnow()
    if random.random() < PURGE_CHANCE:
        purge_quiet(session, limits, now)
    limit_of = {user_key(username): limits.per_user, address_key(address): limits.per_address}
    rows = _locked_rows(session, sorted(limit_of), now)
    waits = [(row.locked_until - now, row.key) for row in rows if row.locked_until and row.locked_until > now]
    if waits:
        session.rollback()
        wait, key = max(waits)
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise TooManyRequests(_refusal(key, seconds), seconds)
    for row in rows:
        if _quiet_for(row, now) >= limits.window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        past_limit = row.failures - limit_of[row.key]
        if past_limit >= 0:  # lock already: this attempt goes on, parallel ones are refused
            row.locked_until = now + limits.lock_time(past_limit)
        session.add(row)
    session.commit()


def attempt_succeeded(session: Session, limits: Limits, username: str, address: str) -> None:
    """The right password: the user name starts afresh; the address gets back this attempt only
    (one good account must not reset an address that guesses at others). The caller commits."""
    clear_user(session, username)
    rows = _locked_rows(session, [address_key(address)], utcnow())
    for row in rows:
        row.failures = max(row.failures - 1, 0)
        if row.failures < limits.per_address:
            row.locked_until = None
        session.add(row)


def clear_user(session: Session, username: str) -> None:
    """Forget the user name's failures (a success, or an admin set a new password). The caller commits."""
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == user_key(username)))


def purge_quiet(session: Session, limits: Limits, now: datetime) -> int:
    """Delete counters quiet for a whole window (they would start afresh anyway); commits."""
    cutoff = now - limits.window
    quiet = and_(col(LoginThrottle.window_started_at) < cutoff,
                 or_(col(LoginThrottle.locked_until).is_(None), col(LoginThrottle.locked_until) < cutoff))
    count = rowcount(session.execute(delete(LoginThrottle).where(quiet)))
    session.commit()
    return count


def _locked_rows(session: Session, keys: list[str], now: datetime) -> list[LoginThrottle]:
    """The counters of `keys`, created if missing, locked until commit: row locks on PostgreSQL (in
    key order, so two replicas never deadlock); on SQLite the INSERT takes the database write lock."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in keys:
        session.execute(insert(LoginThrottle).values(key=key, failures=0, window_started_at=now)
                        .on_conflict_do_nothing(index_elements=["key"]))
    query = (select(LoginThrottle).where(col(LoginThrottle.key).in_(keys)).order_by(col(LoginThrottle.key))
             .with_for_update().execution_options(populate_existing=True))
    return list(session.exec(query))


def _quiet_for(row: LoginThrottle, now: datetime) -> timedelta:
    """Time since the window began or the last lock ended, whichever is later."""
    last = max(row.window_started_at, row.locked_until) if row.locked_until else row.window_started_at
    return now - last


def _refusal(key: str, seconds: int) -> str:
    who = "for this user name" if key.startswith("user:") else "from your address"
    return (f"too many failed logins {who}: try again in {seconds} seconds "
            "(a forgotten password can be reset by an admin with `kadalu user passwd NAME`)")
