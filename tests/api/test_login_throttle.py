"""Finding 8 (throttling): 40 wrong passwords, then the right one, answered 200. Failed logins are now
counted per user name and per client address, in the database, and lock logins for a growing time."""
import re
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.api.app import create_app
from controlplane.db import utcnow
from controlplane.models import LoginThrottle
from controlplane.services import login_throttle, users
from controlplane.services.errors import TooManyRequests, Unauthorized
from controlplane.services.login_throttle import Limits
from controlplane.settings import Settings
from tests.factories import API

RIGHT = "password-123"


def _login(client, username="admin", password="wrong-password-1"):
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


def _expire_locks(client) -> None:
    """As if every lock had just run out (the failures are still within the window)."""
    with Session(client.app.state.engine) as s:
        s.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        s.commit()


def _retry_after(r) -> int:
    return int(r.headers["Retry-After"])


def test_five_wrong_passwords_lock_the_user_name_even_for_the_right_password(client, admin):
    assert [_login(client).status_code for _ in range(5)] == [401] * 5
    r = _login(client, password=RIGHT)
    assert r.status_code == 429
    assert 1 <= _retry_after(r) <= 60
    assert re.fullmatch(r"too many failed logins for this user name: try again in \d+ seconds .*kadalu user passwd.*",
                        r.json()["detail"])
    assert admin.get("/auth/me").status_code == 200  # tokens issued before keep working


def test_unknown_user_names_are_throttled_the_same_way(client, admin):
    known = [_login(client, "admin").status_code for _ in range(6)]
    unknown = [_login(client, "nobody").status_code for _ in range(6)]
    assert known == unknown == [401] * 5 + [429]
    a, b = _login(client, "admin"), _login(client, "nobody")
    assert re.sub(r"\d+", "N", a.json()["detail"]) == re.sub(r"\d+", "N", b.json()["detail"])
    assert a.headers.keys() == b.headers.keys()


def test_the_lock_doubles_while_failures_go_on_up_to_fifteen_minutes(client, admin):
    for _ in range(5):
        _login(client)
    seen = []
    for _ in range(6):
        seen.append(_retry_after(_login(client)))
        _expire_locks(client)
        assert _login(client).status_code == 401  # one more try after each lock, and it fails again
    assert seen[0] <= 60
    assert 60 < seen[1] <= 120 and 120 < seen[2] <= 240 and 240 < seen[3] <= 480
    assert 880 < seen[4] <= 900 and 880 < seen[5] <= 900  # 960 s capped at KADALU_LOGIN_LOCK_MAX_SECONDS


def test_a_quiet_window_starts_the_count_afresh(client, admin):
    for _ in range(4):
        _login(client)
    with Session(client.app.state.engine) as s:
        s.execute(update(LoginThrottle).values(window_started_at=utcnow() - timedelta(minutes=16)))
        s.commit()
    assert [_login(client).status_code for _ in range(5)] == [401] * 5
    assert _login(client).status_code == 429


def test_the_right_password_resets_the_user_count(client, admin):
    for _ in range(4):
        _login(client)
    assert _login(client, password=RIGHT).status_code == 200
    assert [_login(client).status_code for _ in range(5)] == [401] * 5
    assert _login(client, password=RIGHT).status_code == 429


def test_twenty_failures_from_one_address_lock_that_address_only(client, admin, settings):
    assert [_login(client, f"guess{n}").status_code for n in range(20)] == [401] * 20
    r = _login(client, "admin", RIGHT)
    assert r.status_code == 429 and "from your address" in r.json()["detail"]
    with TestClient(client.app, client=("192.0.2.50", 40000)) as elsewhere:
        assert _login(elsewhere, "admin", RIGHT).status_code == 200


def test_successful_logins_do_not_use_up_the_address_allowance(client, admin):
    for _ in range(30):
        assert _login(client, "admin", RIGHT).status_code == 200


def test_the_limits_hold_across_api_replicas(client, admin, settings):
    """Two API processes on one database: failures on either count together."""
    other = create_app(settings)
    with TestClient(other) as replica:
        for n in range(5):
            assert _login(client if n % 2 else replica).status_code == 401
        assert _login(replica, password=RIGHT).status_code == 429
        assert _login(client, password=RIGHT).status_code == 429
    other.state.engine.dispose()


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(client, admin, settings):
    proxied = create_app(Settings(**settings.model_dump(exclude={"trusted_proxies"}), trusted_proxies="10.0.0.1, 10.1.0.0/16"))
    engine = proxied.state.engine
    with TestClient(proxied, client=("10.0.0.1", 1234)) as via_proxy, \
            TestClient(proxied, client=("203.0.113.9", 1234)) as direct:
        hdr = {"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}  # client, then an inner trusted proxy
        assert via_proxy.post(f"{API}/auth/login", json={"username": "x1", "password": "p"}, headers=hdr).status_code == 401
        assert direct.post(f"{API}/auth/login", json={"username": "x2", "password": "p"},
                           headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 401
        with Session(engine) as s:
            keys = set(s.exec(select(LoginThrottle.key).where(LoginThrottle.key.like("addr:%"), LoginThrottle.failures > 0)))
    assert keys == {"addr:198.51.100.7", "addr:203.0.113.9"}
    engine.dispose()


def test_parallel_guesses_cannot_slip_past_the_limit(client, admin):
    """Each attempt is counted before its password is checked: 12 guesses at once get 5 checks."""
    engine = client.app.state.engine
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def guess() -> None:
        with Session(engine, expire_on_commit=False) as s:
            start.wait()
            try:
                users.login(s, Limits(), "192.0.2.1", "admin", "wrong-password-1", 1)
                outcomes.append("200")
            except Unauthorized:
                outcomes.append("401")
            except TooManyRequests:
                outcomes.append("429")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["401"] * 5 + ["429"] * 7


def test_quiet_counters_are_purged(client):
    engine = client.app.state.engine
    now = utcnow()
    with Session(engine) as s:
        s.add(LoginThrottle(key="user:old", failures=3, window_started_at=now - timedelta(hours=1)))
        s.add(LoginThrottle(key="user:locked", failures=9, window_started_at=now - timedelta(hours=1),
                            locked_until=now - timedelta(minutes=5)))
        s.add(LoginThrottle(key="user:recent", failures=1, window_started_at=now - timedelta(minutes=1)))
        s.commit()
        assert login_throttle.purge_quiet(s, Limits(), now) == 1
        assert sorted(s.exec(select(LoginThrottle.key))) == ["user:locked", "user:recent"]
