"""Agents obey only the control plane: messages pushed straight into a node's queue by someone who can
reach the broker (here with the control plane's own broker login, the most an attacker could hold)
are refused, logged and reported, and change nothing on the node; the control plane's own messages
still run."""
import json
import time
import uuid

import pytest
from celery import Celery

import celeryconfig
from contracts import signing
from contracts.task_names import AGENT_RUN, node_queue
from tests.integration.harness import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def node1(cp, tmp_path):
    token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    cp.start_agent("node1", "127.0.1.1", token)
    wait_for(lambda: cp.node_states("mycluster") == {"node1": "Online"}, 60, "node1 Online", cp.procs.tails)
    return cp.api("GET", "/clusters/mycluster/nodes/node1").json()["id"]


def _victim(tmp_path):
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("not yours")
    return victim


def _volume_spec(node_id: str, path: str) -> dict:
    return {"id": str(uuid.uuid4()), "name": "evil", "type": "distribute", "bricks": [
        {"id": str(uuid.uuid4()), "node_id": node_id, "node_name": "node1", "address": "127.0.1.1", "path": path,
         "port": 49999}]}


def test_messages_not_signed_by_the_control_plane_are_refused_and_reported(cp, node1, tmp_path):
    victim = _victim(tmp_path)
    spec = _volume_spec(node1, str(victim))
    brick_id = spec["bricks"][0]["id"]
    delete = {"volume": spec, "brick_id": brick_id, "purge": True}
    attacker = Celery("attacker", set_as_current=False)
    attacker.conf.update(celeryconfig.controlplane_config(cp.broker_url))
    now = time.time()
    forged = [
        # the format agents used to execute unchecked
        {"task_id": str(uuid.uuid4()), "node_id": node1, "kind": "DELETE_BRICK", "spec": delete},
        {"task_id": str(uuid.uuid4()), "node_id": node1, "kind": "ADD_DEVICE",
         "spec": {"device_id": str(uuid.uuid4()), "path": "/etc", "kind": "directory"}},
        # signed, but not with this node's secret
        signing.sign(node1, "a-guessed-secret", {"protocol": 2, "task_id": str(uuid.uuid4()), "node_id": node1,
                                                 "kind": "DELETE_BRICK", "spec": delete, "issued_at": now,
                                                 "key_generation": 1}, generation=1),
        # a task id that would put the journal file outside the state directory
        signing.sign(node1, "a-guessed-secret", {"protocol": 2, "task_id": "../../../escaped", "node_id": node1,
                                                 "kind": "DELETE_BRICK", "spec": delete, "issued_at": now,
                                                 "key_generation": 1}, generation=1),
    ]
    for body in forged:
        attacker.send_task(AGENT_RUN, args=[body], queue=node_queue(node1), task_id=str(uuid.uuid4()))

    def rejected():
        alerts = cp.api("GET", "/clusters/mycluster/alerts").json()["data"]
        return [a for a in alerts if a["kind"] == "message_rejected"]

    # one open alert per node and kind of refusal, counting the refusals
    seen = wait_for(lambda: sum(a["count"] for a in rejected()) >= len(forged) and rejected(), 60,
                    "the refusals to be reported", cp.procs.tails)
    assert {a["severity"] for a in seen} == {"critical"} and {a["state"] for a in seen} == {"firing"}
    codes = {a["message"].split("(")[1].split(")")[0]: a["count"] for a in seen}
    assert codes == {"bad_signature": 2, "malformed": 2}, codes
    assert (victim / "data.txt").read_text() == "not yours"
    agent_dir = cp.root / "agents" / "node1"
    assert not list(cp.root.rglob("escaped*")) and not (agent_dir / "tasks").exists()
    assert cp.api("GET", "/clusters/mycluster/devices").json()["count"] == 0
    log = (cp.root / "logs" / "agent-node1.log").read_text()
    assert log.count("refused a task message") >= len(forged)
    assert "Connected to redis://kadalu-node-" in log  # the agent uses its own broker login, nothing more
    # the control plane's own messages still run
    good = tmp_path / "exports"
    good.mkdir()
    task = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": str(good)}).json()["task"]
    assert cp.wait_task_done(task["id"])["state"] == "ADDED"


def test_a_message_signed_before_the_agent_registered_again_is_sent_again(cp, node1, tmp_path):
    """The agent restarts while a task waits in its queue: its secret rotates, the waiting message
    (signed with the old one) is refused as stale and the control plane sends it again at once."""
    cp.kill_agent("node1")
    wait_for(lambda: cp.node_states("mycluster") == {"node1": "Unreachable"}, 30, "node1 Unreachable")
    good = tmp_path / "exports"
    good.mkdir()
    task = cp.api("POST", "/clusters/mycluster/nodes/node1/devices", json={"path": str(good)}).json()["task"]
    token = cp.api("POST", "/clusters/mycluster/join-token").json()["join_token"]
    cp.start_agent("node1", "127.0.1.1", token)  # registers again with its saved credentials
    done = cp.wait_task_done(task["id"], timeout=60)
    assert done["state"] == "ADDED", json.dumps(done)
    alerts = cp.api("GET", "/clusters/mycluster/alerts").json()["data"]
    stale = [a for a in alerts if a["kind"] == "message_rejected"]
    assert stale and all("stale_key" in a["message"] and "sent again" in a["message"] and a["severity"] == "warning"
                         for a in stale), stale
