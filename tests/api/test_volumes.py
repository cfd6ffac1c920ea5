from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from controlplane.models import Brick, Task
from tests.api.volume_helpers import R3, create, finish_all
from tests.factories import ApiUser


def test_replica3_create_plans_bricks_ports_and_goes_to_started(client, admin, nodes):
    r = create(admin, "gvol1", R3, replica=3)
    assert r.status_code == 202, r.text
    vol = r.json()
    assert vol["state"] == "Creating" and vol["type"] == "replicate" and vol["set_size"] == 3
    assert [b["port"] for b in vol["bricks"]] == [49152, 49152, 49152]  # per node
    assert finish_all(client, vol["id"]) == 3
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Starting"
    assert finish_all(client, vol["id"]) == 3
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "Started" and [b["state"] for b in got["bricks"]] == ["Started"] * 3
    volfile = admin.get("/clusters/c1/volumes/gvol1/volfile")
    assert volfile.status_code == 200 and "cluster/replicate" in volfile.text and "127.0.1.2" in volfile.text
    second = create(admin, "gvol2", ["n1:/e/c1", "n2:/e/c2"])
    assert [b["port"] for b in second.json()["bricks"]] == [49153, 49153]


@pytest.mark.parametrize("kw,bricks,word", [
    ({"replica": 3}, R3[:2], "multiple of 3"),
    ({"replica": 5}, R3, "not supported"),
    ({"disperse": 3, "redundancy": 2}, R3, "less than half"),
    ({"disperse": 4, "redundancy": 2}, R3 + ["n4:/e/b4"], "less than half"),
    ({"arbiter": 1, "replica": 2}, R3[:2], "`replica` 3 with `arbiter` 1"),
    ({"replica": 3, "disperse": 3}, R3, "not both"),
    ({}, ["n1:/e/b1", "n1:/e/b1"], "given twice"),
    ({}, ["n1:/e/b1", "n1:/e/b1/sub"], "nested"),
    ({"replica": 3}, ["n1:/e/b1", "n1:/e/b2", "n3:/e/b3"], "same replicate set"),
    ({}, ["n9:/e/b1"], "not in cluster"),
    ({}, ["n1/e/b1"], "NODE:/PATH"),
    ({}, ["n1:relative"], "absolute"),
    ({}, [], "no bricks"),
])
def test_invalid_creates_are_refused_naming_the_brick_and_change_nothing(client, admin, nodes, kw, bricks, word):
    r = create(admin, "bad", bricks, **kw)
    assert 400 <= r.status_code < 500 and word in r.json()["detail"], r.json()
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Brick)).all() == [] and s.exec(select(Task).where(Task.volume_id.is_not(None))).all() == []


def test_force_allows_two_bricks_of_a_set_on_one_node(admin, nodes):
    assert create(admin, "v", ["n1:/e/b1", "n1:/e/b2"], replica=2, force=True).status_code == 202


def test_bricks_inside_another_volumes_brick_are_refused(admin, nodes):
    assert create(admin, "v1", R3, replica=3).status_code == 202
    r = create(admin, "v2", ["n2:/e/b2/inner"])
    assert r.status_code == 409 and "brick /e/b2 of volume 'v1'" in r.json()["detail"]
    assert create(admin, "v1", ["n4:/e/x"]).status_code == 409


def test_conflicting_requests_while_in_progress_get_409(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3, start=False).json()
    assert admin.post("/clusters/c1/volumes/gvol1/start", {}).status_code == 409
    assert admin.delete("/clusters/c1/volumes/gvol1").status_code == 409
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Created"
    assert admin.post("/clusters/c1/volumes/gvol1/stop", {}).status_code == 409
    assert admin.post("/clusters/c1/volumes/gvol1/start", {}).status_code == 202
    r = admin.post("/clusters/c1/volumes/gvol1/stop", {})
    assert r.status_code == 409 and "in progress" in r.json()["detail"]


def test_failed_brick_makes_createfailed_with_the_nodes_reason(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    error = {"code": "not_found", "errno": "ENOENT", "message": "/e does not exist on node", "hint": "mkdir -p /e"}
    finish_all(client, vol["id"], ok=False, error=error)
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "CreateFailed" and "n1: /e does not exist" in got["reason"] and "mkdir -p /e" in got["reason"]
    report = admin.get("/failures", params={"cluster": "c1"}).json()["data"]
    assert {(f["node"], f["errno"], f["volume"]) for f in report} == {(n, "ENOENT", "gvol1") for n in ("n1", "n2", "n3")}
    assert admin.delete("/clusters/c1/volumes/gvol1").status_code == 202
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/gvol1").status_code == 404


def test_a_task_for_an_unreachable_node_shows_what_the_volume_waits_for(client, admin, nodes):
    from sqlalchemy import update

    from controlplane.models import Node
    create(admin, "gvol1", R3, replica=3)
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).where(Node.name == "n2").values(state="Unreachable"))
        s.commit()
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "Creating" and got["waiting_for"] == ["n2"]
    create(admin, "gvol2", ["n1:/e/c1", "n3:/e/c3", "n4:/e/c4"], replica=3)  # its tasks wait on reachable nodes
    create(admin, "gvol3", ["n2:/e/d2", "n3:/e/d3", "n4:/e/d4"], replica=3)
    listed = {v["name"]: v["waiting_for"] for v in admin.get("/clusters/c1/volumes").json()["data"]}
    assert listed == {"gvol1": ["n2"], "gvol2": [], "gvol3": ["n2"]}  # one query for the page, each its own answer
    codes = {f["code"] for f in admin.get("/failures").json()["data"]}
    assert codes == {"node_unreachable"}


def test_parallel_creates_never_share_a_port(client, admin, nodes):
    def one(i):
        with TestClient(client.app) as c:
            user = ApiUser(c, admin.username, admin.token)
            return create(user, f"p{i}", [f"n1:/e/p/{i}", f"n2:/e/p/{i}"]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(16)))
    assert codes.count(202) + codes.count(409) == 16 and codes.count(202) >= 1
    with Session(client.app.state.engine) as s:
        bricks = s.exec(select(Brick)).all()
    for node_id in {b.node_id for b in bricks}:
        ports = [b.port for b in bricks if b.node_id == node_id]
        assert len(ports) == len(set(ports))
    assert len(bricks) == 2 * codes.count(202)


def test_viewer_cannot_change_volumes(client, admin, nodes):
    create(admin, "gvol1", R3, replica=3)
    viewer = admin.make_user("vera", "viewer")
    assert viewer.get("/clusters/c1/volumes/gvol1").status_code == 200
    assert create(viewer, "gvol2", ["n4:/e/x"]).status_code == 403
    assert viewer.delete("/clusters/c1/volumes/gvol1").status_code == 403


def test_a_task_whose_result_never_comes_is_failed_by_the_reaper(client, admin, nodes):
    from datetime import timedelta

    from sqlalchemy import update

    from controlplane.db import utcnow
    from controlplane.services.redispatch import reap_stuck

    vol = create(admin, "gvol1", R3, replica=3).json()
    with Session(client.app.state.engine) as s:
        stale = dict(phase="running", started_at=utcnow() - timedelta(hours=1))
        s.execute(update(Task).where(Task.volume_id == vol["id"]).values(**stale))
        s.commit()
        assert reap_stuck(s, 1800) == 3  # first: sent again
        assert {t.phase for t in s.exec(select(Task).where(Task.volume_id == vol["id"])).all()} == {"queued"}
        s.execute(update(Task).where(Task.volume_id == vol["id"]).values(attempts=3, **stale))
        s.commit()
        assert reap_stuck(s, 1800) == 3  # out of attempts: failed with the reason
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "CreateFailed" and "no result from the node" in got["reason"]


def test_expand_adds_whole_sets_and_returns_to_started(client, admin, nodes):
    vol = create(admin, "dv", ["n1:/e/d/1", "n2:/e/d/2"]).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/dv").json()["state"] == "Started"
    r = admin.post("/clusters/c1/volumes/dv/expand", {"bricks": ["n3:/e/d/3", "n4:/e/d/4"]})
    assert r.status_code == 202 and r.json()["state"] == "Expanding" and r.json()["brick_count"] == 4
    assert admin.post("/clusters/c1/volumes/dv/stop", {}).status_code == 409
    assert finish_all(client, vol["id"]) == 2  # create the two new bricks
    assert admin.get("/clusters/c1/volumes/dv").json()["state"] == "Expanding"
    assert finish_all(client, vol["id"]) == 2  # then start them
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "Started" and [b["state"] for b in got["bricks"]] == ["Started"] * 4
    assert admin.get("/clusters/c1/volumes/dv/volfile").text.count("type protocol/client") == 4


def test_expand_validates_like_create(client, admin, nodes):
    vol = create(admin, "rv", R3, replica=3, start=False).json()
    finish_all(client, vol["id"])
    r = admin.post("/clusters/c1/volumes/rv/expand", {"bricks": ["n4:/e/x/1", "n1:/e/x/2"]})
    assert r.status_code == 422 and "multiple of 3" in r.json()["detail"]
    r = admin.post("/clusters/c1/volumes/rv/expand", {"bricks": ["n1:/e/b1/in", "n2:/e/y", "n3:/e/y"]})
    assert r.status_code == 409 and "of volume 'rv'" in r.json()["detail"]
    got = admin.get("/clusters/c1/volumes/rv").json()
    assert got["state"] == "Created" and got["brick_count"] == 3


def test_tasks_for_some_bricks_still_carry_the_whole_volume(client, admin, nodes):
    vol = create(admin, "dv", ["n1:/e/d/1", "n2:/e/d/2"]).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    admin.post("/clusters/c1/volumes/dv/expand", {"bricks": ["n3:/e/d/3"]})
    with Session(client.app.state.engine) as s:
        (task,) = s.exec(select(Task).where(Task.kind == "CREATE_BRICK", Task.phase == "queued")).all()
    assert len(task.spec["volume"]["bricks"]) == 3  # a self-heal or client graph built from it has them all
