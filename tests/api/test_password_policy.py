"""Finding 8 (policy): `aaaaaaaa`, `12345678` and a password equal to the user name were accepted.
Every password that is set (first user, new user, own change, admin reset) now passes one policy,
and the error names the rule that failed."""
import pytest

from controlplane.services.passwords import common_passwords
from tests.factories import API

BAD = [
    ("aaaaaaaa", "8 characters long: use at least 12"),
    ("12345678", "8 characters long: use at least 12"),
    ("aaaaaaaaaaaaaaaa", "fewer than 5 different characters"),
    ("121212121212", "fewer than 5 different characters"),
    ("x" * 240 + "abcdefghijklmnopq", "257 characters long: use at most 256"),
    ("1qaz2wsx3edc", "list of commonly used passwords"),
    ("QWERTY123456", "list of commonly used passwords"),  # compared case-insensitively
]


def _weak_for(username: str) -> list[tuple[str, str]]:
    return [*BAD, (f"{username}-is-me-2024", "contains the user name"),
            (f"My{username.upper()}password!", "contains the user name")]


@pytest.mark.parametrize(("password", "rule"), [*BAD, ("Bootstrapper-1", "contains the user name")])
def test_first_user_password_follows_the_policy(client, password, rule):
    r = client.post(f"{API}/auth/first-user", json={"username": "bootstrapper", "password": password})
    assert r.status_code == 422, r.text
    assert rule in r.json()["detail"]
    assert client.get(f"{API}/auth/bootstrap").json() == {"needs_first_user": True}


def test_new_user_password_follows_the_policy(admin):
    for password, rule in _weak_for("bob"):
        r = admin.post("/users", {"username": "bob", "password": password})
        assert r.status_code == 422 and rule in r.json()["detail"], (password, r.json())
        assert r.json()["detail"].startswith("password ")
    assert [u["username"] for u in admin.get("/users").json()["data"]] == ["admin"]
    assert admin.post("/users", {"username": "bob", "password": "correct horse battery"}).status_code == 201


def test_own_password_change_follows_the_policy(admin):
    for password, rule in _weak_for("admin"):
        r = admin.post("/auth/password", {"current_password": "password-123", "new_password": password})
        assert r.status_code == 422 and rule in r.json()["detail"], (password, r.json())
        assert r.json()["detail"].startswith("new_password ")


def test_admin_reset_follows_the_policy(admin):
    admin.make_user("bob")
    for password, rule in _weak_for("bob"):
        r = admin.post("/users/bob/password", {"password": password})
        assert r.status_code == 422 and rule in r.json()["detail"], (password, r.json())


def test_the_common_password_list_ships_with_the_package():
    words = common_passwords()
    assert len(words) >= 10_000
    assert {"password", "123456", "qwerty123456", "1qaz2wsx3edc"} <= words
    assert all(w == w.lower() and w.strip() == w and not w.startswith("#") for w in words)
    assert "password-123" not in words  # the tests' password passes the policy
