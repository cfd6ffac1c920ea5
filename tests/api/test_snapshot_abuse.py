"""Snapshot requests that must be refused with a clear answer and nothing half-made, and who may
do what (snapshots are authorised on their volume)."""
import pytest
from sqlmodel import Session, select

from controlplane.models import Snapshot, Task
from tests.api.snapshot_helpers import active, play, started_volume, take
from tests.api.volume_helpers import R3, create


def nothing_made(client) -> bool:
    with Session(client.app.state.engine) as s:
        return (s.exec(select(Snapshot)).all() == []
                and s.exec(select(Task).where(Task.kind.startswith("SNAPSHOT"))).all() == [])


@pytest.mark.parametrize("body, status, words", [
    ({"volume": "v1", "name": "a/b"}, 422, "invalid snapshot name"),
    ({"volume": "v1", "name": "../etc"}, 422, "invalid snapshot name"),
    ({"volume": "v1", "name": "x" * 65}, 422, "name"),
    ({"volume": "v1", "name": "ok", "description": "d" * 1025}, 422, "description"),
    ({"volume": "v1", "name": "ok", "extra": 1}, 422, "extra"),
    ({"volume": "nope", "name": "ok"}, 404, "volume 'nope' not found"),
    ({"volume": "v1", "name": "v1"}, 409, "name of a volume"),
])
def test_bad_create_requests_are_refused_and_make_nothing(client, admin, nodes, body, status, words):
    started_volume(client, admin, "v1", R3)
    r = admin.post("/clusters/c1/snapshots", body)
    assert r.status_code == status, r.text
    assert words in r.text
    assert nothing_made(client)


def test_a_volume_that_is_not_started_is_refused(client, admin, nodes):
    create(admin, "v2", R3, replica=3)  # Creating
    r = admin.post("/clusters/c1/snapshots", {"volume": "v2", "name": "s"})
    assert r.status_code == 409 and "Started" in r.json()["detail"]
    assert nothing_made(client)


def test_names_are_unique_and_one_snapshot_at_a_time_per_volume(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    assert admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"}).status_code == 202
    r = admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s2"})
    assert r.status_code == 409 and "being taken" in r.json()["detail"]
    for _ in range(4):
        play(client)
    r = admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = admin.post("/clusters/c1/snapshots/s1/clone", {"name": "s1"})
    assert r.status_code == 409  # a snapshot's name: an activated snapshot mounts under it
    r = admin.post("/clusters/c1/snapshots/s1/clone", {"name": "v1"})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = admin.post("/clusters/c1/snapshots/s1/clone", {"name": "bad name"})
    assert r.status_code == 422
    assert active(client) == []


def test_requests_on_a_snapshot_in_the_wrong_state_say_what_to_do(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    for verb in ("activate", "deactivate", "restore"):
        r = admin.post(f"/clusters/c1/snapshots/s1/{verb}")
        assert r.status_code == 409 and "in progress" in r.json()["detail"], (verb, r.text)
    assert admin.post("/clusters/c1/snapshots/s1/clone", {"name": "c"}).status_code == 409
    assert admin.delete("/clusters/c1/snapshots/s1").status_code == 409
    for _ in range(4):
        play(client)
    r = admin.post("/clusters/c1/snapshots/s1/deactivate")
    assert r.status_code == 409 and "only an Activated snapshot" in r.json()["detail"]


@pytest.mark.parametrize("body", [{"every": "5x", "keep": 3}, {"every": "10s", "keep": 3}, {"every": "1h", "keep": 0},
                                  {"every": "1h", "keep": 5000}, {"every": "400d", "keep": 1},
                                  {"every": "1h\noption x", "keep": 1}])
def test_bad_schedules_are_refused(client, admin, nodes, body):
    started_volume(client, admin, "v1", R3)
    r = client.put("/api/v1/clusters/c1/volumes/v1/snapshot-schedule", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert admin.get("/clusters/c1/volumes/v1/snapshot-schedule").status_code == 404


def test_snapshots_are_authorised_on_their_volume(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    started_volume(client, admin, "v2", ["n1:/e/c1", "n2:/e/c2", "n3:/e/c3"])
    take(client, admin, "v1", "s1")
    take(client, admin, "v2", "s2")
    viewer = admin.make_user("vic", "viewer", scope="volume", cluster="c1", name="v1")
    keeper = admin.make_user("kim", "maintainer", scope="volume", cluster="c1", name="v1")
    stranger = admin.make_user("sam", "maintainer", scope="volume", cluster="c1", name="v2")

    assert [s["name"] for s in viewer.get("/clusters/c1/snapshots").json()["data"]] == ["s1"]
    assert viewer.get("/clusters/c1/snapshots/s1").status_code == 200
    assert viewer.get("/clusters/c1/snapshots/s2").status_code == 404  # not told it exists
    r = viewer.post("/clusters/c1/snapshots", {"volume": "v1", "name": "nope"})
    assert r.status_code == 403 and "maintainer" in r.json()["detail"]
    for verb in ("activate", "restore", "deactivate"):
        assert viewer.post(f"/clusters/c1/snapshots/s1/{verb}").status_code == 403
    assert viewer.delete("/clusters/c1/snapshots/s1").status_code == 403
    r = client.put("/api/v1/clusters/c1/volumes/v1/snapshot-schedule", json={"every": "1h", "keep": 3},
                   headers=viewer.headers)
    assert r.status_code == 403

    assert stranger.get("/clusters/c1/snapshots/s1").status_code == 404
    assert stranger.post("/clusters/c1/snapshots/s1/activate").status_code == 404
    assert stranger.delete("/clusters/c1/snapshots/s1").status_code == 404
    assert [s["name"] for s in stranger.get("/clusters/c1/snapshots").json()["data"]] == ["s2"]

    assert keeper.post("/clusters/c1/snapshots/s1/activate").status_code == 202
    # a clone is a new volume of the cluster: a grant on one volume does not make volumes
    r = keeper.post("/clusters/c1/snapshots/s1/clone", {"name": "mine"})
    assert r.status_code == 403 and "create volume 'mine'" in r.json()["detail"]
    assert keeper.post("/clusters/c1/snapshots", {"volume": "v2", "name": "x"}).status_code == 404
    assert nothing_left_of(client, "x")


def nothing_left_of(client, name: str) -> bool:
    with Session(client.app.state.engine) as s:
        return s.exec(select(Snapshot).where(Snapshot.name == name)).all() == []
