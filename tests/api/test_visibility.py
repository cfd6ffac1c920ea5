"""What each scope of user sees (issue #7 finding 12, requirement 7): node-, volume- and device-
scoped viewers see only what concerns their node, volume or device; a cluster viewer sees all of
the cluster; nobody ever sees a volume's client credentials in a task spec."""
import pytest
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from contracts.messages import TaskError, TaskResult
from controlplane.models import Device, Task, Volume
from controlplane.services import health, reconcile
from tests.api.volume_helpers import create

SECRET = "s3cr3t-password-of-va"


def fail(client, task_id, code="EACCES"):
    with Session(client.app.state.engine) as s:
        t = s.get(Task, task_id)
        err = TaskError(code=code, errno=code, message=f"{t.kind} failed")
        reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=False, error=err))


@pytest.fixture
def world(client, admin, nodes):
    """Cluster c1: va on n1+n2, vb on n3+n4, device d1 on n1 and d3 on n3; va's brick task on n2 and
    d3's add failed; every node then went Unreachable (one alert each). Task specs carry va's
    credentials, as they do once volume specs include them."""
    ids = {name: n["node_id"] for name, n in nodes.items()}
    va = create(admin, "va", ["n1:/e/1", "n2:/e/2"]).json()
    vb = create(admin, "vb", ["n3:/e/3", "n4:/e/4"]).json()
    d1 = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/d1"}).json()
    d3 = admin.post("/clusters/c1/nodes/n3/devices", {"path": "/exports/d3"}).json()
    with Session(client.app.state.engine) as s:
        for t in s.exec(select(Task).where(Task.volume_id == va["id"])):
            t.spec["volume"].update(auth_username="va-user", auth_password=SECRET)
            flag_modified(t, "spec")
            s.add(t)
        s.commit()
        va_on_n2 = s.exec(select(Task).where(Task.volume_id == va["id"], Task.node_id == ids["n2"])).one().id
    fail(client, va_on_n2)
    fail(client, d3["task"]["id"])
    with Session(client.app.state.engine) as s:
        health.mark_unreachable(s, timeout=0.0)
    users = {
        "node": admin.make_user("nodey", "viewer", scope="node", cluster="c1", name="n1"),
        "volume": admin.make_user("voly", "viewer", scope="volume", cluster="c1", name="va"),
        "device": admin.make_user("devy", "viewer", scope="device", cluster="c1", name="n3:/exports/d3"),
        "cluster": admin.make_user("clusty", "viewer", scope="cluster", cluster="c1"),
    }
    return {"ids": ids, "va": va, "vb": vb, "d1": d1, "d3": d3, "users": users}


def tasks_of(user):
    r = user.get("/clusters/c1/tasks", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def alerts_of(user):
    return user.get("/clusters/c1/alerts", params={"limit": 1000}).json()["data"]


def failures_of(user):
    return user.get("/failures", params={"cluster": "c1", "limit": 1000}).json()["data"]


def brick_nodes(task):
    return sorted(b["node_name"] for b in task["spec"]["volume"]["bricks"])


def test_no_task_spec_ever_shows_the_volume_credentials(world, admin):
    seen = 0
    for user in [admin, *world["users"].values()]:
        for t in tasks_of(user):
            one = user.get(f"/tasks/{t['id']}").json()
            assert one["spec"] == t["spec"]
            for shown in (t, one):
                assert SECRET not in str(shown) and "va-user" not in str(shown) and "auth_" not in str(shown)
            seen += "volume" in t["spec"]
    assert seen >= 4


def test_node_scoped_viewer_sees_only_its_node(world):
    nodey = world["users"]["node"]
    tasks = tasks_of(nodey)
    assert {t["node"] for t in tasks} == {"n1"}
    assert sorted(t["kind"] for t in tasks) == ["ADD_DEVICE", "ADD_DEVICE", "CREATE_BRICK"]  # its /e, d1
    brick_task = next(t for t in tasks if t["kind"] == "CREATE_BRICK")
    assert brick_nodes(brick_task) == ["n1"]  # not va's brick on n2
    assert [(a["kind"], a["node"]) for a in alerts_of(nodey)] == [("node_unreachable", "n1")]
    assert {f["node"] for f in failures_of(nodey)} == {"n1"}  # its tasks waiting on Unreachable n1
    status = nodey.get("/clusters/c1").json()
    assert (status["nodes_by_state"], status["node_count"], status["device_count"], status["volume_count"]) == (
        {"Unreachable": 1}, 1, 2, 0)
    assert [c["node_count"] for c in nodey.get("/clusters").json()["data"]] == [1]
    assert [n["name"] for n in nodey.get("/clusters/c1/nodes").json()["data"]] == ["n1"]
    assert [d["path"] for d in nodey.get("/clusters/c1/devices").json()["data"]] == ["/e", "/exports/d1"]
    assert nodey.get("/clusters/c1/volumes").json()["count"] == 0
    assert nodey.get("/clusters/c1/tasks", params={"node": "n2"}).status_code == 404
    other = next(t for t in tasks_of(world["users"]["cluster"]) if t["node"] == "n2")
    assert nodey.get(f"/tasks/{other['id']}").status_code == 404


def test_volume_scoped_viewer_sees_only_its_volume(world):
    voly = world["users"]["volume"]
    tasks = tasks_of(voly)
    assert {t["kind"] for t in tasks} == {"CREATE_BRICK"} and sorted(t["node"] for t in tasks) == ["n1", "n2"]
    assert all(t["spec"]["volume"]["name"] == "va" and brick_nodes(t) == ["n1", "n2"] for t in tasks)
    alerts = alerts_of(voly)
    assert [(a["kind"], a["node"], a["volume"]) for a in alerts] == [("task_failed", "n2", "va")]
    fails = failures_of(voly)
    assert fails and {f["volume"] for f in fails} == {"va"}
    assert any(f["code"] == "EACCES" and f["node"] == "n2" for f in fails)
    status = voly.get("/clusters/c1").json()
    assert (status["nodes_by_state"], status["node_count"], status["device_count"], status["volume_count"]) == (
        {}, 0, 0, 1)
    assert [v["name"] for v in voly.get("/clusters/c1/volumes").json()["data"]] == ["va"]
    assert voly.get("/clusters/c1/nodes").json()["count"] == 0
    assert voly.get("/clusters/c1/devices").json()["count"] == 0


def test_device_scoped_viewer_sees_only_its_device(world):
    devy = world["users"]["device"]
    tasks = tasks_of(devy)
    assert [(t["kind"], t["spec"]["device_id"]) for t in tasks] == [("ADD_DEVICE", world["d3"]["device"]["id"])]
    assert alerts_of(devy) == []
    assert [(f["kind"], f["node"]) for f in failures_of(devy)] == [("ADD_DEVICE", "n3")]
    status = devy.get("/clusters/c1").json()
    assert (status["nodes_by_state"], status["node_count"], status["device_count"], status["volume_count"]) == (
        {}, 0, 1, 0)
    assert [d["path"] for d in devy.get("/clusters/c1/devices").json()["data"]] == ["/exports/d3"]
    assert devy.get("/clusters/c1/nodes").json()["count"] == 0
    assert devy.get("/clusters/c1/volumes").json()["count"] == 0
    assert devy.get(f"/tasks/{world['d1']['task']['id']}").status_code == 404


def test_cluster_viewer_sees_everything_of_the_cluster(world, client):
    clusty = world["users"]["cluster"]
    tasks = tasks_of(clusty)
    assert len(tasks) == 10 and {t["node"] for t in tasks} == {"n1", "n2", "n3", "n4"}  # 4 of them: the /e devices
    assert all(brick_nodes(t) in (["n1", "n2"], ["n3", "n4"]) for t in tasks if "volume" in t["spec"])
    kinds = sorted((a["kind"], a["node"]) for a in alerts_of(clusty))
    assert kinds == sorted([("node_unreachable", n) for n in ("n1", "n2", "n3", "n4")]
                           + [("task_failed", "n2"), ("task_failed", "n3")])
    assert {f["node"] for f in failures_of(clusty)} == {"n1", "n2", "n3", "n4"}
    status = clusty.get("/clusters/c1").json()
    assert (status["nodes_by_state"], status["node_count"], status["device_count"], status["volume_count"]) == (
        {"Unreachable": 4}, 4, 6, 2)
    assert clusty.get("/clusters/c1/nodes").json()["count"] == 4
    assert clusty.get("/clusters/c1/devices").json()["count"] == 6
    assert clusty.get("/clusters/c1/volumes").json()["count"] == 2
    with Session(client.app.state.engine) as s:  # the stored spec keeps what the agents need
        stored = s.exec(select(Task).where(Task.volume_id == world["va"]["id"])).first()
        assert stored.spec["volume"]["auth_password"] == SECRET


def test_a_volume_task_failure_alert_names_its_volume(world, client):
    with Session(client.app.state.engine) as s:
        from controlplane.models import Alert
        failed = s.exec(select(Alert).where(Alert.kind == "task_failed")).all()
        va = s.exec(select(Volume).where(Volume.name == "va")).one()
        d3 = s.get(Device, world["d3"]["device"]["id"])
        assert {(a.node_id, a.volume_id) for a in failed} == {(world["ids"]["n2"], va.id), (d3.node_id, None)}
