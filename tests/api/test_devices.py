import json

import pytest

from contracts import signing
from contracts.task_names import AGENT_RUN, node_queue
from tests.factories import register_node


@pytest.fixture
def node(client, admin):
    return register_node(client, admin.make_cluster("c1"), "n1", "127.0.1.1")


def test_device_add_commits_a_queued_task_and_sends_it_to_the_node_queue(admin, node, redis_client):
    r = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1/"})
    assert r.status_code == 202
    body = r.json()
    assert body["device"]["state"] == "Adding" and body["device"]["path"] == "/exports/b1"
    assert body["task"]["state"] == "QUEUED" and body["task"]["kind"] == "ADD_DEVICE"
    raw = redis_client.lrange(node_queue(node["node_id"]), 0, -1)
    assert len(raw) == 1
    message = json.loads(raw[0])
    assert message["headers"]["task"] == AGENT_RUN and message["headers"]["id"] == body["task"]["id"]
    assert message["content-type"] == "application/json"
    listed = admin.get("/clusters/c1/tasks").json()["data"]
    assert [t["id"] for t in listed] == [body["task"]["id"]]
    args, _kwargs, embed = json.loads(__import__("base64").b64decode(message["body"]))
    assert embed["callbacks"] is None  # the agent sends its result itself; a message names no callback
    signed = signing.verify(args[0], node["node_secret"])  # signed with this node's secret
    assert signed["task_id"] == body["task"]["id"] and signed["node_id"] == node["node_id"]
    assert signed["kind"] == "ADD_DEVICE" and signed["key_generation"] == node["key_generation"]


@pytest.mark.parametrize("body,status,word", [
    ({}, 422, "exactly one"),
    ({"path": "/a", "device": "/dev/vdc"}, 422, "exactly one"),
    ({"path": "relative/dir"}, 422, "absolute"),
    ({"path": "/a/../b"}, 422, "'..'"),
    ({"path": "/"}, 422, "cannot be '/'"),
    ({"device": "/home/disk"}, 422, "not under /dev"),
])
def test_bad_device_input_is_refused(admin, node, body, status, word):
    r = admin.post("/clusters/c1/nodes/n1/devices", body)
    assert r.status_code == status and word in r.json()["detail"]
    assert admin.get("/clusters/c1/devices").json()["count"] == 0


def test_overlapping_devices_on_one_node_are_refused(admin, node):
    assert admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1"}).status_code == 202
    for path in ("/exports/b1", "/exports/b1/sub", "/exports"):
        r = admin.post("/clusters/c1/nodes/n1/devices", {"path": path})
        assert r.status_code == 409 and "overlaps" in r.json()["detail"], path
    assert admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b10"}).status_code == 202
    assert admin.get("/clusters/c1/devices").json()["count"] == 2


def test_unknown_node_is_404(admin, node):
    r = admin.post("/clusters/c1/nodes/n9/devices", {"path": "/exports/b1"})
    assert r.status_code == 404 and "kadalu node list" in r.json()["detail"]


def test_force_remove_drops_the_registration(admin, node):
    dev = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1"}).json()["device"]
    r = admin.delete(f"/clusters/c1/devices/{dev['id']}")
    assert r.status_code == 409 and "`force`" in r.json()["detail"]
    assert admin.delete(f"/clusters/c1/devices/{dev['id']}", params={"force": "true"}).status_code == 204
    assert admin.get("/clusters/c1/devices").json()["count"] == 0
