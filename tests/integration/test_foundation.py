"""Server + agents as real processes: heartbeats, Unreachable, queued tasks, broker loss."""
import pytest

from tests.integration.harness import wait_for

pytestmark = pytest.mark.integration


def _cluster_with_agents(cp, names, tmp_path):
    token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    for i, name in enumerate(names, start=1):
        cp.start_agent(name, f"127.0.1.{i}", token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in names}, 60, "agents Online", cp.procs.tails)
    return token


def test_killed_agent_goes_unreachable_and_comes_back_online(cp, tmp_path):
    token = _cluster_with_agents(cp, ["node1", "node2"], tmp_path)
    node = cp.api("GET", "/clusters/mycluster/nodes/node1").json()
    assert node["glusterfs_version"] != "" or node["hostname"] != ""
    cp.kill_agent("node1")
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Unreachable", 30, "node1 Unreachable", cp.procs.tails)
    assert cp.node_states("mycluster")["node2"] == "Online"
    cp.start_agent("node1", "127.0.1.1", token)
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Online", 30, "node1 Online again", cp.procs.tails)
    kinds = [a["kind"] for a in cp.api("GET", "/clusters/mycluster/alerts").json()["data"] if a["node"] == "node1"]
    assert kinds[:2] == ["node_online", "node_unreachable"]


def test_device_add_validated_by_the_agent(cp, tmp_path):
    _cluster_with_agents(cp, ["node1"], tmp_path)
    good = tmp_path / "exports" / "b1"
    good.mkdir(parents=True)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "to-etc").symlink_to("/etc")
    cases = {str(good): "done", str(tmp_path / "missing"): "ENOENT", str(tmp_path / "afile"): "ENOTDIR",
             # the agent runs with --device-root <tmp_path>: /srv is fine for the server, not for this agent
             "/srv/kadalu-not-a-root": "outside_roots", str(tmp_path / "to-etc"): "denied_path"}
    for path, expected in cases.items():
        task_id = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": path}).json()["task"]["id"]
        task = cp.wait_task_done(task_id)
        if expected == "done":
            assert task["phase"] == "done" and task["state"] == "ADDED", task
        else:
            assert task["phase"] == "failed" and task["error"]["hint"], task
            assert expected in (task["error"]["errno"], task["error"]["code"]), task
    devices = {d["path"]: d for d in cp.api("GET", "/clusters/mycluster/devices").json()["data"]}
    assert devices[str(good)]["state"] == "Ready" and devices[str(good)]["size_bytes"] > 0
    assert devices[str(tmp_path / "missing")]["state"] == "Failed"
    assert "mkdir -p" in devices[str(tmp_path / "missing")]["reason"]


def test_task_for_an_unreachable_node_waits_and_runs_when_it_returns(cp, tmp_path):
    token = _cluster_with_agents(cp, ["node1"], tmp_path)
    cp.kill_agent("node1")
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Unreachable", 30, "node1 Unreachable", cp.procs.tails)
    path = tmp_path / "b2"
    path.mkdir()
    task_id = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": str(path)}).json()["task"]["id"]
    assert cp.task(task_id)["state"] == "QUEUED"
    cp.start_agent("node1", "127.0.1.1", token)
    task = cp.wait_task_done(task_id)
    assert task["state"] == "ADDED"


def test_restarting_redis_empty_loses_no_task(cp, tmp_path):
    token = _cluster_with_agents(cp, ["node1"], tmp_path)
    cp.kill_agent("node1")
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Unreachable", 30, "node1 Unreachable", cp.procs.tails)
    path = tmp_path / "b3"
    path.mkdir()
    task_id = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": str(path)}).json()["task"]["id"]
    cp.restart_redis_empty()  # the task's message is gone with it
    cp.start_agent("node1", "127.0.1.1", token)
    task = cp.wait_task_done(task_id, timeout=90)
    assert task["state"] == "ADDED" and task["attempts"] >= 2
