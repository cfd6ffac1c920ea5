"""Faults of the control worker, on a private PostgreSQL: SIGKILLed while agents' results wait for it
(each applied once after its restart), and two workers racing on copies of the same result (applied
once: one transition, one alert)."""
import shutil
import time

import pytest
from celery import Celery

import celeryconfig
from contracts.messages import TaskError, TaskResult
from contracts.task_names import CONTROLPLANE_QUEUE, TASK_RESULT
from tests.integration.fault_fixtures import (  # noqa: F401
    broker,
    node_credentials,
    pg,
    pg_cp,
    signed_by,
    start_worker,
    with_agents,
)
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import add_devices

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = ("node1", "node2")


def volume_tasks(cp, volume_id: str) -> list[dict]:
    tasks = cp.api("GET", "/clusters/mycluster/tasks", params={"limit": 200}).json()["data"]
    return [t for t in tasks if t["spec"].get("volume", {}).get("id") == volume_id]


def test_worker_killed_with_results_pending_applies_each_once_after_restart(pg_cp):  # noqa: F811
    cp = pg_cp
    with_agents(cp, NODES)
    add_devices(cp, "exports", NODES)
    cp.procs.kill("worker")  # SIGKILL
    bricks = [f"{n}:{cp.root / 'exports' / n / 'wv'}" for n in NODES]
    r = cp.api("POST", "/clusters/mycluster/volumes", json={"name": "wv", "bricks": bricks})
    assert r.status_code == 202, r.text
    volume_id = r.json()["id"]
    created = [t["id"] for t in volume_tasks(cp, volume_id)]
    assert len(created) == 2
    # the agents ran them and sent their results; nobody applies them
    wait_for(lambda: sum((cp.root / "agents" / n / "tasks" / f"{t}.json").exists() for t in created for n in NODES) == 2,
             30, "both results recorded by the agents", cp.procs.tails)
    wait_for(lambda: broker(cp).llen(CONTROLPLANE_QUEUE) >= 2, 20, "results waiting in the queue")
    assert {t["phase"] for t in volume_tasks(cp, volume_id)} == {"queued"}
    start_worker(cp)
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/wv").json()["state"] == "Started", 90,
             "the create to complete", cp.procs.tails)
    tasks = volume_tasks(cp, volume_id)
    assert sorted(t["kind"] for t in tasks) == ["CREATE_BRICK"] * 2 + ["START_BRICK"] * 2, tasks
    assert all(t["phase"] == "done" and t["attempts"] <= 1 for t in tasks), tasks
    failed = [a for a in cp.api("GET", "/clusters/mycluster/alerts").json()["data"] if a["kind"] == "task_failed"]
    assert failed == []


def test_two_workers_racing_on_copies_of_one_result_apply_it_once(pg_cp):  # noqa: F811
    cp = pg_cp
    with_agents(cp, ("node1",))
    start_worker(cp, "worker2")
    cp.kill_agent("node1")  # its task stays queued: the only results it gets are the copies below
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Unreachable", 30, "node1 Unreachable", cp.procs.tails)
    path = cp.root / "exports" / "node1"
    path.mkdir(parents=True)
    r = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": str(path)})
    assert r.status_code == 202, r.text
    task_id, node_id = r.json()["task"]["id"], node_credentials(cp, "node1")["node_id"]
    result = TaskResult(task_id=task_id, node_id=node_id, ok=False,
                        error=TaskError(code="not_found", message="no such directory (copy)", hint=""))
    envelope = signed_by(cp, "node1", result.model_dump())
    sender = Celery("copies", set_as_current=False)
    sender.conf.update(celeryconfig.controlplane_config(cp.broker_url))
    for _ in range(40):
        sender.send_task(TASK_RESULT, args=[envelope], queue=CONTROLPLANE_QUEUE)
    wait_for(lambda: broker(cp).llen(CONTROLPLANE_QUEUE) == 0, 60, "both workers to drain the copies", cp.procs.tails)
    time.sleep(1)  # the last copies taken are being applied
    task = cp.task(task_id)
    assert task["phase"] == "failed" and "no such directory (copy)" in task["reason"]
    failed = [a for a in cp.api("GET", "/clusters/mycluster/alerts").json()["data"] if a["kind"] == "task_failed"]
    assert len(failed) == 1 and failed[0]["count"] == 1, failed
    (device,) = cp.api("GET", "/clusters/mycluster/devices").json()["data"]
    assert device["state"] == "Failed"
    logs = {n: (cp.root / "logs" / f"{n}.log").read_text(errors="replace") for n in ("worker", "worker2")}
    assert all(TASK_RESULT in text for text in logs.values()), "both workers took copies"
