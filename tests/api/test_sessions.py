"""Finding 8 (sessions) and 9: password change, revoking sessions, token lifetime."""
from datetime import datetime, timedelta

from sqlmodel import Session, select

from controlplane.db import utcnow
from controlplane.models import ApiToken, LoginThrottle
from tests.factories import API, ApiUser

OLD, NEW = "password-123", "a-brand-new-passphrase"


def _expires_in_days(answer) -> float:
    return (datetime.fromisoformat(answer.json()["expires_at"]) - utcnow()).total_seconds() / 86400


def test_login_cannot_ask_for_a_longer_token_than_the_server_allows(client, admin, settings):
    assert settings.token_ttl_days == 30
    long = client.post(f"{API}/auth/login", json={"username": "admin", "password": OLD, "expires_in_days": 3650})
    assert long.status_code == 200
    assert 29.9 < _expires_in_days(long) <= 30
    short = client.post(f"{API}/auth/login", json={"username": "admin", "password": OLD, "expires_in_days": 2})
    assert 1.9 < _expires_in_days(short) <= 2
    with Session(client.app.state.engine) as s:
        longest = max(t.expires_at for t in s.exec(select(ApiToken)))
    assert longest <= utcnow() + timedelta(days=30)


def test_changing_my_password_needs_the_current_one_and_signs_out_my_other_sessions(client, admin):
    laptop = ApiUser.login(client, "admin", OLD)
    r = admin.post("/auth/password", {"current_password": OLD, "new_password": NEW})
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert admin.get("/auth/me").status_code == 200  # the session that changed it stays
    assert laptop.get("/auth/me").status_code == 401
    assert client.post(f"{API}/auth/login", json={"username": "admin", "password": OLD}).status_code == 401
    assert ApiUser.login(client, "admin", NEW).get("/auth/me").status_code == 200


def test_a_wrong_current_password_is_refused_and_counts_as_a_failed_login(client, admin):
    for _ in range(5):
        r = admin.post("/auth/password", {"current_password": "not-my-password", "new_password": NEW})
        assert r.status_code == 403
        assert "current_password" in r.json()["detail"]
    r = admin.post("/auth/password", {"current_password": OLD, "new_password": NEW})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert client.post(f"{API}/auth/login", json={"username": "admin", "password": OLD}).status_code == 429


def test_admin_sets_another_users_password_which_ends_their_sessions_and_lock(client, admin):
    bob = admin.make_user("bob", "viewer")
    for _ in range(5):
        client.post(f"{API}/auth/login", json={"username": "bob", "password": "a-wrong-guess"})
    assert client.post(f"{API}/auth/login", json={"username": "bob", "password": OLD}).status_code == 429
    r = admin.post("/users/bob/password", {"password": NEW})
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert bob.get("/auth/me").status_code == 401
    with Session(client.app.state.engine) as s:
        assert s.get(LoginThrottle, "user:bob") is None
    assert ApiUser.login(client, "bob", NEW).get("/auth/me").status_code == 200


def test_admin_route_does_not_change_the_admins_own_password_without_the_current_one(admin):
    r = admin.post("/users/admin/password", {"password": NEW})
    assert r.status_code == 409
    assert "/auth/password" in r.json()["detail"]


def test_only_admins_set_passwords_or_revoke_other_users_sessions(admin):
    admin.make_user("bob")
    vera = admin.make_user("vera", "maintainer")
    assert vera.post("/users/bob/password", {"password": NEW}).status_code == 403
    assert vera.post("/users/bob/revoke-sessions").status_code == 403
    assert admin.post("/users/nobody/revoke-sessions").status_code == 404


def test_revoke_all_my_sessions(client, admin):
    other = ApiUser.login(client, "admin", OLD)
    r = admin.post("/auth/revoke-sessions")
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert admin.get("/auth/me").status_code == 401
    assert other.get("/auth/me").status_code == 401


def test_admin_revokes_another_users_sessions(client, admin):
    bob = admin.make_user("bob", "viewer")
    bob_phone = ApiUser.login(client, "bob", OLD)
    r = admin.post("/users/bob/revoke-sessions")
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert bob.get("/auth/me").status_code == 401 and bob_phone.get("/auth/me").status_code == 401
    assert admin.get("/auth/me").status_code == 200
    assert ApiUser.login(client, "bob", OLD).get("/auth/me").status_code == 200


def test_deleting_a_user_deletes_their_tokens(client, admin):
    bob = admin.make_user("bob", "viewer")
    assert admin.delete("/users/bob").status_code == 204
    assert bob.get("/auth/me").status_code == 401
    with Session(client.app.state.engine) as s:
        assert len(s.exec(select(ApiToken)).all()) == 1  # admin's own
