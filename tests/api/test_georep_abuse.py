"""Bad geo-replication requests: each refused with what to fix, and nothing is left behind."""
import pytest
from sqlalchemy import update
from sqlmodel import Session

from controlplane.models import Brick, Node
from tests.api.georep_helpers import GEO, active_tasks, create, online, started_session, started_volume, two_clusters
from tests.api.volume_helpers import finish_all


def nothing_left(client, admin) -> None:
    assert admin.get(GEO).json()["data"] == []
    assert [t.kind for t in active_tasks(client) if t.kind.startswith("GEOREP")] == []
    opts = admin.get("/clusters/c1/volumes/mv").json()["options"]
    assert "changelog.changelog" not in opts


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"remote_volume": "nope"}, 404, "create it first"),
    ({"remote_cluster": "nope"}, 404, "--remote-host"),
    ({"master_volume": "nope"}, 404, "not found"),
    ({"remote_cluster": None}, 422, "either --remote-cluster"),
    ({"remote_host": "10.0.0.9"}, 422, "not both"),
    ({"remote_user": "root;rm -rf /"}, 422, "not a user name"),
    ({"remote_user": "Root"}, 422, "not a user name"),
    ({"remote_user": "geouser"}, 422, "give --remote-user root"),
    ({"remote_volume": "../etc"}, 422, "is not 1-64 letters"),
    ({"remote_cluster": None, "remote_host": "bad host!", "remote_volume": "rv"}, 422, "--remote-host"),
    ({"ssh_port": 0}, 422, "ssh_port"),
    ({"remote_volume": "mv", "remote_cluster": "c1"}, 422, "is the master volume"),
])
def test_bad_create_requests_are_refused_with_what_to_fix(client, admin, nodes, body, status, words):
    two_clusters(client, admin, nodes)
    r = create(admin, **body)
    assert r.status_code == status, r.text
    assert words in r.text
    nothing_left(client, admin)


def test_master_not_started(client, admin, nodes):
    two_clusters(client, admin, nodes)
    r = admin.post("/clusters/c1/volumes", {"name": "cold", "bricks": ["n4:/e/c1"], "start": False})
    assert r.status_code == 202
    busy = create(admin, master_volume="cold")
    assert busy.status_code == 409 and "wait for it to finish" in busy.json()["detail"]  # still Creating
    finish_all(client, r.json()["id"])
    r = create(admin, master_volume="cold")
    assert r.status_code == 409 and "start it first" in r.json()["detail"]
    nothing_left(client, admin)


def test_remote_not_started(client, admin, nodes):
    two_clusters(client, admin, nodes)
    r = admin.post("/clusters/c2/volumes", {"name": "rcold", "bricks": ["r1:/r/c"], "start": False})
    assert r.status_code == 202
    finish_all(client, r.json()["id"])
    r = create(admin, remote_volume="rcold")
    assert r.status_code == 409 and "kadalu volume start -c c2 rcold" in r.json()["detail"]
    nothing_left(client, admin)


def test_remote_smaller_than_master(client, admin, nodes):
    _, rv = two_clusters(client, admin, nodes)
    with Session(client.app.state.engine) as s:
        s.execute(update(Brick).values(size_bytes=10 << 30, free_bytes=10 << 30))
        s.execute(update(Brick).where(Brick.volume_id == rv["id"]).values(size_bytes=1 << 30, free_bytes=1 << 30))
        s.commit()
    r = create(admin)
    assert r.status_code == 409 and "smaller than master volume" in r.json()["detail"] and "--force" in r.json()["detail"]
    nothing_left(client, admin)
    assert create(admin, force=True).status_code == 202


def test_unreachable_remote(client, admin, nodes):
    two_clusters(client, admin, nodes)
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).where(Node.name == "r2").values(state="Unreachable"))
        s.commit()
    r = create(admin)
    assert r.status_code == 409 and "cannot be reached" in r.json()["detail"] and "r2" in r.json()["detail"]
    nothing_left(client, admin)


def test_second_session_for_the_same_pair_and_a_second_writer_into_the_remote(client, admin, nodes):
    two_clusters(client, admin, nodes)
    first = started_session(client, admin)
    r = create(admin)
    assert r.status_code == 409 and first["id"] in r.json()["detail"] and "exists already" in r.json()["detail"]
    started_volume(client, admin, "c1", "mv2", ["n4:/e/x"])
    online(client)
    r = create(admin, master_volume="mv2")
    assert r.status_code == 409 and "receives geo-replication session" in r.json()["detail"]
    assert [g["id"] for g in admin.get(GEO).json()["data"]] == [first["id"]]


def test_unknown_sessions_and_requests_in_the_wrong_state(client, admin, nodes):
    two_clusters(client, admin, nodes)
    assert admin.get(f"{GEO}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert admin.post(f"{GEO}/not-an-id/start", {}).status_code == 404
    geo = started_session(client, admin)
    # the session belongs to c1: not visible through c2
    assert admin.get(f"/clusters/c2/geo-replication/{geo['id']}").status_code == 404
    r = admin.post(f"{GEO}/{geo['id']}/start", {})
    assert r.status_code == 409 and "Started already" in r.json()["detail"]
    admin.post(f"{GEO}/{geo['id']}/stop", {})
    r = admin.post(f"{GEO}/{geo['id']}/pause", {})
    assert r.status_code == 409 and "in progress" in r.json()["detail"]
