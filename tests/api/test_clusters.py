import pytest

from tests.factories import API


def test_default_cluster_always_exists(admin):
    names = [c["name"] for c in admin.get("/clusters").json()["data"]]
    assert names == ["default"]
    assert admin.delete("/clusters/default").status_code == 409


def test_create_cluster_returns_a_join_token_and_status(admin):
    r = admin.post("/clusters", {"name": "mycluster"})
    assert r.status_code == 201
    assert r.json()["join_token"].startswith("kjt_")
    status = admin.get("/clusters/mycluster").json()
    assert status["name"] == "mycluster" and status["node_count"] == 0 and status["metadata_version"] >= 1


@pytest.mark.parametrize("name", ["a/b", "has space", "x" * 300, "", "-lead", "ünicode", "../etc"])
def test_bad_cluster_names_are_refused_and_nothing_is_stored(admin, name):
    r = admin.post("/clusters", {"name": name})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) or "letters, digits" in detail
    assert [c["name"] for c in admin.get("/clusters").json()["data"]] == ["default"]


def test_duplicate_cluster_is_409(admin):
    admin.make_cluster("c1")
    r = admin.post("/clusters", {"name": "c1"})
    assert r.status_code == 409
    assert "already exists" in r.json()["detail"]


def test_unknown_fields_and_malformed_json_are_422(client, admin):
    r = admin.post("/clusters", {"name": "c2", "colour": "blue"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "colour"]
    r = client.post(f"{API}/clusters", content=b"{not json", headers={**admin.headers, "content-type": "application/json"})
    assert r.status_code == 422
    assert [c["name"] for c in admin.get("/clusters").json()["data"]] == ["default"]


def test_unknown_cluster_is_404_with_a_hint(admin):
    r = admin.get("/clusters/nope/nodes")
    assert r.status_code == 404
    assert "kadalu cluster list" in r.json()["detail"]


def test_rotating_the_join_token_retires_the_old_one(client, admin):
    old = admin.make_cluster("c3")
    new = admin.post("/clusters/c3/join-token").json()["join_token"]
    assert new != old
    r = client.post(f"{API}/agent/register", json={"join_token": old, "name": "n1", "address": "127.0.1.1"})
    assert r.status_code == 401
    r = client.post(f"{API}/agent/register", json={"join_token": new, "name": "n1", "address": "127.0.1.1"})
    assert r.status_code == 200


def test_cluster_with_nodes_cannot_be_deleted(client, admin):
    token = admin.make_cluster("c4")
    client.post(f"{API}/agent/register", json={"join_token": token, "name": "n1", "address": "127.0.1.1"})
    r = admin.delete("/clusters/c4")
    assert r.status_code == 409 and "node remove" in r.json()["detail"]
    assert admin.delete("/clusters/c4/nodes/n1").status_code == 204
    assert admin.delete("/clusters/c4").status_code == 204
