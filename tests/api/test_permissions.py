from tests.factories import register_node


def test_viewer_reads_but_never_changes(client, admin):
    token = admin.make_cluster("c1")
    register_node(client, token, "n1", "127.0.1.1")
    viewer = admin.make_user("vera", "viewer")
    assert viewer.get("/clusters/c1/nodes").json()["count"] == 1
    attempts = [
        viewer.post("/clusters", {"name": "c2"}),
        viewer.post("/clusters/c1/join-token"),
        viewer.delete("/clusters/c1"),
        viewer.delete("/clusters/c1/nodes/n1"),
        viewer.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1"}),
        viewer.post("/users", {"username": "eve", "password": "password-123"}),
        viewer.post("/users/vera/grants", {"role": "admin"}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert "kadalu user grant" in attempts[0].json()["detail"]
    assert [c["name"] for c in admin.get("/clusters").json()["data"]] == ["c1", "default"]
    assert admin.get("/clusters/c1/devices").json()["count"] == 0
    assert [u["username"] for u in admin.get("/users").json()["data"]] == ["admin", "vera"]


def test_nobody_sees_a_cluster_without_a_grant_in_it(client, admin):
    admin.make_cluster("a")
    admin.make_cluster("b")
    alice = admin.make_user("alice", "maintainer", scope="cluster", cluster="a")
    assert [c["name"] for c in alice.get("/clusters").json()["data"]] == ["a"]
    assert alice.get("/clusters/b").status_code == 404
    assert alice.get("/clusters/b/nodes").status_code == 404
    assert alice.post("/clusters/b/join-token").status_code == 404


def test_cluster_maintainer_adds_devices_but_cannot_rotate_tokens_or_manage_users(client, admin):
    token = admin.make_cluster("a")
    register_node(client, token, "n1", "127.0.1.1")
    mia = admin.make_user("mia", "maintainer", scope="cluster", cluster="a")
    assert mia.post("/clusters/a/nodes/n1/devices", {"path": "/exports/b1"}).status_code == 202
    assert mia.post("/clusters/a/join-token").status_code == 403
    assert mia.get("/users").status_code == 403
    assert mia.post("/clusters", {"name": "new"}).status_code == 403


def test_node_scoped_grant_sees_only_that_node(client, admin):
    token = admin.make_cluster("a")
    register_node(client, token, "n1", "127.0.1.1")
    register_node(client, token, "n2", "127.0.1.2")
    nick = admin.make_user("nick", "maintainer", scope="node", cluster="a", name="n2")
    assert [n["name"] for n in nick.get("/clusters/a/nodes").json()["data"]] == ["n2"]
    assert nick.post("/clusters/a/nodes/n1/devices", {"path": "/x"}).status_code == 403
    assert nick.post("/clusters/a/nodes/n2/devices", {"path": "/x"}).status_code == 202


def test_grants_validate_role_and_scope(admin):
    admin.make_user("u1")
    for body, word in [({"role": "god"}, "unknown role"), ({"role": "viewer", "scope": "planet"}, "unknown scope"),
                       ({"role": "viewer", "scope": "cluster"}, "needs a cluster"),
                       ({"role": "viewer", "scope": "cluster", "cluster": "nope"}, "not found")]:
        r = admin.post("/users/u1/grants", body)
        assert r.status_code in (404, 422) and word in r.json()["detail"], (body, r.json())
    assert admin.get("/users").json()["data"][1]["grants"] == []


def test_admin_cannot_delete_themselves(admin):
    r = admin.delete("/users/admin")
    assert r.status_code == 409


def _grant_ids(admin, username: str) -> list[str]:
    users = admin.get("/users").json()["data"]
    return [g["id"] for u in users if u["username"] == username for g in u["grants"]]


def test_the_last_admin_grant_on_scope_all_can_not_be_dropped(admin):
    """Found by fuzzing: an admin could demote or ungrant themselves and lock everyone out."""
    [grant] = _grant_ids(admin, "admin")
    for r in (admin.post("/users/admin/grants", {"role": "viewer"}), admin.delete(f"/users/admin/grants/{grant}")):
        assert r.status_code == 409 and "would leave no user with the admin role" in r.json()["detail"], r.text
    assert admin.get("/users").status_code == 200  # still admin
    admin.make_user("second", "admin")
    assert admin.delete(f"/users/admin/grants/{grant}").status_code == 204
    assert admin.get("/users").status_code == 403
