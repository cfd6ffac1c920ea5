from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.db import utcnow
from controlplane.models import ApiToken, User
from tests.factories import API, ApiUser


def test_first_user_is_created_without_auth_only_once_and_is_admin(client):
    assert client.get(f"{API}/auth/bootstrap").json() == {"needs_first_user": True}
    admin = ApiUser.first_admin(client)
    assert client.get(f"{API}/auth/bootstrap").json() == {"needs_first_user": False}
    r = client.post(f"{API}/auth/first-user", json={"username": "mallory", "password": "password-123"})
    assert r.status_code == 409
    assert "kadalu login" in r.json()["detail"]
    me = admin.get("/auth/me").json()
    assert me["grants"] == [{"id": me["grants"][0]["id"], "role": "admin", "scope": "all", "cluster": None, "name": None}]


def test_passwords_are_argon2_hashed_and_tokens_stored_only_as_hashes(client, admin):
    engine = client.app.state.engine
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "admin")).one()
        hashes = [t.token_hash for t in s.exec(select(ApiToken))]
    assert user.password_hash.startswith("$argon2")
    assert "password-123" not in user.password_hash
    assert admin.token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_wrong_password_and_unknown_user_get_the_same_401(client, admin):
    a = client.post(f"{API}/auth/login", json={"username": "admin", "password": "wrong-password"})
    b = client.post(f"{API}/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_logout_revokes_the_token(client, admin):
    assert admin.get("/clusters").status_code == 200
    assert admin.post("/auth/logout").status_code == 204
    r = admin.get("/clusters")
    assert r.status_code == 401
    assert "kadalu login" in r.json()["detail"]


def test_expired_token_is_refused(client, admin):
    with Session(client.app.state.engine) as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    r = admin.get("/clusters")
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_every_endpoint_needs_a_token_except_health_and_bootstrap(client, admin):
    open_paths = {("GET", "/api/v1/health"), ("GET", "/api/v1/auth/bootstrap"), ("POST", "/api/v1/auth/first-user"),
                  ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/agent/register")}
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, methods in spec["paths"].items():
        for method in methods:
            if (method.upper(), path) in open_paths:
                continue
            url = path.replace("{cluster}", "default").replace("{node}", "n1").replace("{username}", "admin")
            url = url.replace("{device_id}", "x").replace("{task_id}", "x").replace("{grant_id}", "x")
            r = client.request(method.upper(), url, json={})
            assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code} without a token"
            checked += 1
    assert checked >= 20
    assert client.get("/metrics").status_code == 401


def test_garbage_bearer_token_is_401_not_500(client, admin):
    for header in ("Bearer x", "Bearer " + "a" * 5000, "Basic abc", "Node x:y"):
        r = client.get(f"{API}/clusters", headers={"Authorization": header})
        assert r.status_code == 401, header
