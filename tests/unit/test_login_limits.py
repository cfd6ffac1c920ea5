"""The lock time of failed logins and the settings behind it."""
from datetime import timedelta

import pytest
from pydantic import ValidationError

from controlplane.services.login_throttle import Limits
from controlplane.settings import Settings


def test_lock_time_doubles_from_one_minute_to_fifteen():
    limits = Limits()
    assert [limits.lock_time(n).total_seconds() for n in range(6)] == [60, 120, 240, 480, 900, 900]
    assert limits.lock_time(10_000) == timedelta(minutes=15)


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("KADALU_LOGIN_MAX_FAILURES_PER_USER", "3")
    monkeypatch.setenv("KADALU_LOGIN_LOCK_SECONDS", "10")
    monkeypatch.setenv("KADALU_LOGIN_LOCK_MAX_SECONDS", "5")  # below the first lock: the first lock wins
    limits = Limits.from_settings(Settings())
    assert limits.per_user == 3 and limits.per_address == 20
    assert limits.lock_time(0) == limits.lock_time(3) == timedelta(seconds=10)


def test_a_bad_trusted_proxy_stops_the_server_from_starting(monkeypatch):
    monkeypatch.setenv("KADALU_TRUSTED_PROXIES", "10.0.0.1, proxy.example.com")
    with pytest.raises(ValidationError, match="'proxy.example.com' is not an IP address or network"):
        Settings()
