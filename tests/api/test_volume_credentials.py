"""Per-volume client credentials (issue #7, finding 16): every volume gets its own, agents get them
in the task specs they build brick volfiles from, and users get them only with the right to
change the volume (the client volfile), never through task listings."""
from sqlmodel import Session, select

from contracts.task_specs import BrickTaskSpec
from controlplane.models import Task, Volume
from tests.api.volume_helpers import R3, create, finish_all


def _agent_headers(node: dict) -> dict:
    return {"Authorization": f"Node {node['node_id']}:{node['node_secret']}"}


def _row(client, name) -> Volume:
    with Session(client.app.state.engine) as s:
        return s.exec(select(Volume).where(Volume.name == name)).one()


def test_each_volume_has_its_own_credentials_and_its_bricks_are_told_them(client, admin, nodes):
    create(admin, "gvol1", R3, replica=3)
    create(admin, "gvol2", ["n1:/e/c1", "n2:/e/c2"])
    one, two = _row(client, "gvol1"), _row(client, "gvol2")
    assert one.auth_username and one.auth_password and one.auth_password != one.auth_username
    assert {one.auth_username, one.auth_password}.isdisjoint({two.auth_username, two.auth_password})
    with Session(client.app.state.engine) as s:
        sent = s.exec(select(Task).where(Task.volume_id == one.id, Task.kind == "CREATE_BRICK")).all()
    assert len(sent) == 3
    for task in sent:
        volume = BrickTaskSpec.parse(task.spec).volume
        assert (volume.auth_username, volume.auth_password) == (one.auth_username, one.auth_password)


def test_the_client_volfile_carries_the_credentials_and_needs_the_maintainer_role(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    finish_all(client, vol["id"])
    row = _row(client, "gvol1")
    text = admin.get("/clusters/c1/volumes/gvol1/volfile").text
    assert text.count(f"option username {row.auth_username}\n") == 3
    assert text.count(f"option password {row.auth_password}\n") == 3

    viewer = admin.make_user("vera", "viewer", scope="volume", cluster="c1", name="gvol1")
    refused = viewer.get("/clusters/c1/volumes/gvol1/volfile")
    assert refused.status_code == 403
    assert "maintainer" in refused.json()["detail"] and "kadalu user grant" in refused.json()["detail"]
    assert viewer.get("/clusters/c1/volumes/gvol1").status_code == 200  # still sees the volume

    keeper = admin.make_user("kim", "maintainer", scope="volume", cluster="c1", name="gvol1")
    assert keeper.get("/clusters/c1/volumes/gvol1/volfile").text == text


def test_task_listings_hide_the_credentials(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    row = _row(client, "gvol1")
    viewer = admin.make_user("vera", "viewer", scope="cluster", cluster="c1")
    for user in (viewer, admin):
        listed = [t for t in user.get("/clusters/c1/tasks").json()["data"] if "volume" in t["spec"]]
        assert listed and all("auth_password" not in t["spec"]["volume"] for t in listed)
        one = user.get(f"/tasks/{listed[0]['id']}").json()
        assert one["spec"]["volume"]["name"] == "gvol1" and "auth_username" not in one["spec"]["volume"]
        assert row.auth_password not in user.get("/clusters/c1/tasks").text
        assert row.auth_username not in user.get("/clusters/c1/tasks").text
    assert finish_all(client, vol["id"]) == 3  # the stored specs are untouched: agents still get them
    with Session(client.app.state.engine) as s:
        task = s.exec(select(Task).where(Task.volume_id == row.id)).first()
    assert task.spec["volume"]["auth_password"] == row.auth_password


def test_credentials_change_only_while_no_brick_runs_and_reach_the_agents(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    before = _row(client, "gvol1")
    refused = admin.post("/clusters/c1/volumes/gvol1/credentials")
    assert refused.status_code == 409 and "kadalu volume stop gvol1" in refused.json()["detail"]
    assert _row(client, "gvol1").auth_password == before.auth_password

    admin.post("/clusters/c1/volumes/gvol1/stop", {})
    finish_all(client, vol["id"])
    viewer = admin.make_user("vera", "viewer", scope="volume", cluster="c1", name="gvol1")
    assert viewer.post("/clusters/c1/volumes/gvol1/credentials").status_code == 403
    done = admin.post("/clusters/c1/volumes/gvol1/credentials")
    assert done.status_code == 200 and "apply when the volume starts" in done.json()["message"]
    after = _row(client, "gvol1")
    assert {after.auth_username, after.auth_password}.isdisjoint({before.auth_username, before.auth_password})
    assert f"option password {after.auth_password}" in admin.get("/clusters/c1/volumes/gvol1/volfile").text
    agent = client.get("/api/v1/agent/metadata", headers=_agent_headers(nodes["n1"]))
    (entry,) = [v for v in agent.json()["content"]["volumes"] if v["spec"]["name"] == "gvol1"]
    assert entry["spec"]["auth_password"] == after.auth_password  # what the bricks start with
