"""The web UI through TestClient on a real database: the browser session (HttpOnly SameSite cookie
over the same tokens as the API), CSRF on every change, the same authorisation as the API, and the
pages showing what the user may see."""
import re

import pytest
from sqlalchemy import update
from sqlmodel import Session

from controlplane.models import Node
from controlplane.web.session import COOKIE
from tests.api.volume_helpers import R3, create, finish_all

PASSWORD = "password-123"


def web_login(client, username: str, password: str = PASSWORD):
    client.cookies.clear()
    r = client.post("/ui/login", data={"username": username, "password": password}, follow_redirects=False)
    return r


def csrf_of(html: str) -> str:
    return re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', html).group(1)


@pytest.fixture
def viewer(admin):
    return admin.make_user("vera", "viewer", scope="cluster", cluster="c1")


def test_login_sets_an_httponly_samesite_cookie_and_no_secret_reaches_the_page(client, admin, nodes):
    r = web_login(client, "admin")
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=kdl_") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = client.cookies[COOKIE]
    page = client.get("/ui/clusters/c1")
    assert page.status_code == 200 and 'data-node="n1"' in page.text and 'data-node="n4"' in page.text
    assert token not in page.text and token not in str(page.url)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # the cookie is a login token like the CLI's: the API takes it, and logging out revokes it
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.post("/ui/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_wrong_password_is_refused_and_throttled_like_the_api(client, admin):
    r = web_login(client, "admin", "wrong-password!")
    assert r.status_code == 401 and "wrong username or password" in r.text and COOKIE not in r.headers.get("set-cookie", "")
    for _ in range(6):
        r = web_login(client, "admin", "wrong-password!")
    assert r.status_code == 429 and r.headers["retry-after"]


def test_pages_without_a_session_go_to_the_login_page(client, admin):
    client.cookies.clear()
    r = client.get("/ui/clusters/c1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    assert client.post("/ui/clusters/c1/volumes", data={"name": "x"}).status_code == 401


def test_changes_need_the_csrf_token_and_a_same_site_origin(client, admin, nodes):
    web_login(client, "admin")
    csrf = csrf_of(client.get("/ui/clusters/c1").text)
    body = {"name": "v1", "layout": "replica3", "bricks": "\n".join(R3)}
    assert client.post("/ui/clusters/c1/volumes", data=body).status_code == 403  # no token
    r = client.post("/ui/clusters/c1/volumes", data=body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/ui/clusters/c1/volumes", data=body, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0
    r = client.post("/ui/clusters/c1/volumes", data=body, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/ui/clusters/c1/volumes/v1"
    assert admin.get("/clusters/c1/volumes/v1").json()["state"] == "Creating"


def test_a_viewer_sees_no_controls_and_the_server_refuses_a_forged_change(client, admin, nodes, viewer):
    vol = create(admin, "v1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    web_login(client, "vera")
    cluster = client.get("/ui/clusters/c1").text
    volume = client.get("/ui/clusters/c1/volumes/v1").text
    assert 'data-volume="v1"' in cluster and "Create a volume" not in cluster and "Add device" not in cluster
    assert "hx-post" not in volume.replace('hx-post="/ui/logout"', "")  # no action offered
    csrf = csrf_of(volume)
    r = client.post("/ui/clusters/c1/volumes/v1/stop", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and "maintainer" in r.text
    assert admin.get("/clusters/c1/volumes/v1").json()["state"] == "Started"
    assert client.get("/ui/users").status_code == 403


def test_a_user_granted_nothing_in_a_cluster_does_not_see_it(client, admin, nodes):
    admin.make_user("nina")
    web_login(client, "nina")
    assert "/ui/clusters/c1" not in client.get("/ui/").text  # (not just "c1": the page's hex CSRF token may hold it)
    assert client.get("/ui/clusters/c1").status_code == 404
    assert client.get("/ui/clusters/c1/events").status_code == 404


def test_the_volume_form_previews_a_sized_volume_without_storing_it(client, admin, nodes):
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).values(state="Online"))
        s.commit()
    web_login(client, "admin")
    csrf = csrf_of(client.get("/ui/clusters/c1/volumes/new").text)
    r = client.post("/ui/clusters/c1/volumes/plan", data={"name": "sized", "layout": "replica3", "size": "1GiB"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and "Placement preview" in r.text and r.text.count("/e/sized-brick") == 3
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0


def test_options_are_searchable_and_set_from_the_page(client, admin, nodes):
    vol = create(admin, "v1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    web_login(client, "admin")
    csrf = csrf_of(client.get("/ui/clusters/c1/volumes/v1").text)
    found = client.get("/ui/clusters/c1/volumes/v1/options", params={"q": "quorum-type"}).text
    assert 'data-option="cluster.quorum-type"' in found
    r = client.post("/ui/clusters/c1/volumes/v1/options", data={"name": "cluster.quorum-type", "value": "fixed",
                                                                 "action": "set"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert admin.get("/clusters/c1/volumes/v1").json()["options"]["cluster.quorum-type"] == "fixed"
    r = client.post("/ui/clusters/c1/volumes/v1/options", data={"name": "no.such", "value": "1", "action": "set"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code in (404, 422) and "no.such" in r.text


def test_the_event_stream_sends_the_page_sections_first(client, admin, nodes):
    web_login(client, "admin")
    with client.stream("GET", "/ui/clusters/c1/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        seen = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                seen.append(line)
            if len(seen) == 6:
                break
    assert any('"id": "nodes"' in s and 'data-node=\\"n1\\"' in s for s in seen)
