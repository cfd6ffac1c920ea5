import time

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from contracts.messages import Heartbeat, RebalanceReport, TaskResult
from controlplane.models import Node, Rebalance, Task
from controlplane.services import health, reconcile
from tests.api.volume_helpers import create, finish_all
from tests.factories import register_node


def started(client, admin, name, bricks):
    vol = create(admin, name, bricks).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    return vol


def report(client, kind, data):
    with Session(client.app.state.engine) as s:
        for t in s.exec(select(Task).where(Task.kind == kind, Task.phase == "queued")).all():
            reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=True, data=data))


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


# --- reports are untrusted input (issue #7 finding 4) ---------------------------------------------

def heartbeat(client, node_id, volume_id, **report):
    """A heartbeat as the control worker applies it, carrying one rebalance report."""
    with Session(client.app.state.engine) as s:
        node = s.get(Node, node_id)
        hb = Heartbeat(node_id=node_id, sent_at=time.time(), rebalances=[RebalanceReport(volume_id=volume_id, **report)])
        health.apply_heartbeat(s, node, hb)


def states(client, volume_id):
    with Session(client.app.state.engine) as s:
        return {r.node_id: r.state for r in s.exec(select(Rebalance).where(Rebalance.volume_id == volume_id))}


def running(client, admin, nodes):
    """dv on n1, n2, a rebalance started and reported in_progress by both."""
    vol = started(client, admin, "dv", ["n1:/e/1", "n2:/e/2"])
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202
    report(client, "START_REBALANCE", {"state": "in_progress", "files_moved": 1})
    return vol


def test_a_node_of_another_cluster_or_without_bricks_cannot_report_on_a_volume(client, admin, nodes):
    vol = started(client, admin, "dv", ["n1:/e/1", "n2:/e/2"])
    other = register_node(client, admin.make_cluster("c2"), "m1", "127.0.2.1")
    heartbeat(client, other["node_id"], vol["id"], state="in_progress", files_moved=7)
    heartbeat(client, nodes["n4"]["node_id"], vol["id"], state="in_progress", files_moved=7)  # same cluster, no brick
    assert states(client, vol["id"]) == {}
    assert admin.get("/clusters/c1/volumes/dv/rebalance").json()["state"] == "not_started"
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202


@pytest.mark.parametrize("word", ["running", "starting", "stopping", "in_progress" + "x" * 200])
def test_unknown_state_words_are_refused_at_the_edge(client, admin, nodes, word):
    """An agent reports only its own words: anything else does not even parse as a report, and a
    heartbeat carrying it is refused whole (422 over HTTP; dropped as malformed on the broker)."""
    vol = running(client, admin, nodes)
    n1 = nodes["n1"]
    with pytest.raises(ValidationError):
        RebalanceReport(volume_id=vol["id"], state=word)
    body = {"node_id": n1["node_id"], "sent_at": time.time(), "rebalances": [{"volume_id": vol["id"], "state": word}]}
    r = client.post("/api/v1/agent/heartbeat", json=body,
                    headers={"Authorization": f"Node {n1['node_id']}:{n1['node_secret']}"})
    assert r.status_code == 422
    assert states(client, vol["id"])[n1["node_id"]] == "in_progress"


@pytest.mark.parametrize("report_", [
    {"state": "completed", "files_moved": -1}, {"state": "completed", "files_scanned": 2**31},
    {"state": "completed", "bytes_moved": 2**63}, {"state": "completed", "elapsed_seconds": float("nan")},
])
def test_impossible_counters_are_dropped(client, admin, nodes, report_):
    vol = running(client, admin, nodes)
    n1 = nodes["n1"]["node_id"]
    heartbeat(client, n1, vol["id"], **report_)
    assert states(client, vol["id"])[n1] == "in_progress"
    got = admin.get("/clusters/c1/volumes/dv/rebalance").json()
    assert got["files_moved"] == 2 and got["state"] == "in_progress"
    heartbeat(client, n1, vol["id"], state="completed", files_moved=5)  # a good report still lands
    assert states(client, vol["id"])[n1] == "completed"


def test_a_report_still_saying_in_progress_after_a_stop_does_not_block_the_next_start(client, admin, nodes):
    vol = running(client, admin, nodes)
    n1 = nodes["n1"]["node_id"]
    assert admin.post("/clusters/c1/volumes/dv/rebalance/stop", {}).status_code == 202
    heartbeat(client, n1, vol["id"], state="in_progress", files_moved=3)  # predates the stop's answer
    assert set(states(client, vol["id"]).values()) == {"stopping"}
    report(client, "STOP_REBALANCE", {"state": "stopped", "files_moved": 4})
    heartbeat(client, n1, vol["id"], state="in_progress", files_moved=5)  # stale, or a process that lingers
    assert admin.get("/clusters/c1/volumes/dv/rebalance").json()["state"] == "stopped"
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202
    report(client, "START_REBALANCE", {"state": "in_progress"})
    heartbeat(client, n1, vol["id"], state="in_progress", files_moved=9)  # a started run reports freely
    assert states(client, vol["id"])[n1] == "in_progress"


def test_a_stop_answered_with_in_progress_is_a_failed_stop_and_a_start_may_follow(client, admin, nodes):
    vol = running(client, admin, nodes)
    assert admin.post("/clusters/c1/volumes/dv/rebalance/stop", {}).status_code == 202
    report(client, "STOP_REBALANCE", {"state": "in_progress"})
    assert set(states(client, vol["id"]).values()) == {"failed"}
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202


def test_a_report_from_the_previous_run_does_not_settle_a_start(client, admin, nodes):
    vol = started(client, admin, "dv", ["n1:/e/1", "n2:/e/2"])
    admin.post("/clusters/c1/volumes/dv/rebalance/start", {})
    heartbeat(client, nodes["n1"]["node_id"], vol["id"], state="completed", files_moved=50)
    assert set(states(client, vol["id"]).values()) == {"starting"}
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 409


def test_a_node_that_no_longer_holds_bricks_does_not_block_start_or_stop(client, admin, nodes):
    vol = started(client, admin, "dv", ["n1:/e/1", "n2:/e/2"])
    with Session(client.app.state.engine) as s:  # n4's row from a time it held a brick of dv
        s.add(Rebalance(volume_id=vol["id"], node_id=nodes["n4"]["node_id"], state="in_progress"))
        s.commit()
    got = admin.get("/clusters/c1/volumes/dv/rebalance").json()
    assert got["state"] == "not_started" and got["nodes"] == []
    assert admin.post("/clusters/c1/volumes/dv/rebalance/stop", {}).status_code == 409
    assert admin.post("/clusters/c1/volumes/dv/rebalance/start", {}).status_code == 202
    assert nodes["n4"]["node_id"] not in states(client, vol["id"])
