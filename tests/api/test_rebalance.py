from sqlmodel import Session, select

from contracts.messages import TaskResult
from controlplane.models import Task
from controlplane.services import reconcile
from tests.api.volume_helpers import NoSend, create, finish_all


def started(client, admin, name, bricks):
    vol = create(admin, name, bricks).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    return vol


def report(client, kind, data):
    with Session(client.app.state.engine) as s:
        for t in s.exec(select(Task).where(Task.kind == kind, Task.phase == "queued")).all():
            reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=True, data=data), NoSend())


def test_rebalance_runs_on_every_node_of_the_volume_and_reports_totals(client, admin, nodes):
    started(client, admin, "dv", ["n1:/e/d/1", "n2:/e/d/2", "n3:/e/d/3"])
    r = admin.post("/clusters/c1/volumes/dv/rebalance/start", {})
    assert r.status_code == 202 and {n["node"] for n in r.json()["nodes"]} == {"n1", "n2", "n3"}
    assert r.json()["state"] == "starting"
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 409
    report(client, "START_REBALANCE", {"state": "completed", "files_scanned": 10, "files_moved": 4, "bytes_moved": 40,
                                       "files_failed": 0, "files_skipped": 0, "elapsed_seconds": 2.0})
    got = admin.get("/clusters/c1/volumes/dv/rebalance").json()
    assert got["state"] == "completed" and got["files_moved"] == 12 and got["files_scanned"] == 30
    assert admin.post("/clusters/c1/volumes/dv/rebalance/stop", {}).status_code == 409  # nothing runs


def test_rebalance_needs_a_started_volume_with_several_sets(client, admin, nodes):
    started(client, admin, "one", ["n1:/e/o/1"])
    r = admin.post("/clusters/c1/volumes/one/rebalance/start", {})
    assert r.status_code == 409 and "single set" in r.json()["detail"]
    vol = create(admin, "stopped", ["n1:/e/s/1", "n2:/e/s/2"], start=False).json()
    finish_all(client, vol["id"])
    r = admin.post("/clusters/c1/volumes/stopped/rebalance/start", {})
    assert r.status_code == 409 and "Started" in r.json()["detail"]


def test_stop_sends_to_every_node_and_keeps_counters(client, admin, nodes):
    started(client, admin, "dv", ["n1:/e/d/1", "n2:/e/d/2"])
    admin.post("/clusters/c1/volumes/dv/rebalance/start", {})
    report(client, "START_REBALANCE", {"state": "in_progress", "files_moved": 3})
    assert admin.post("/clusters/c1/volumes/dv/rebalance/stop", {}).status_code == 202
    report(client, "STOP_REBALANCE", {"state": "stopped", "files_moved": 5})
    got = admin.get("/clusters/c1/volumes/dv/rebalance").json()
    assert got["state"] == "stopped" and got["files_moved"] == 10
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202  # resume
