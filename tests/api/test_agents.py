import time

from sqlmodel import Session, select

from contracts.task_names import node_queue
from controlplane.models import Alert
from tests.factories import API, register_node


def _hb(node: dict, **kw) -> dict:
    return {"node_id": node["node_id"], "sent_at": time.time(), **kw}


def _auth(node: dict) -> dict:
    return {"Authorization": f"Node {node['node_id']}:{node['node_secret']}"}


def test_registering_again_with_the_node_credentials_rotates_them(client, admin):
    token = admin.make_cluster("c1")
    first = register_node(client, token, "n1", "127.0.1.1")
    assert first["key_generation"] == 1 and first["broker_url"].startswith("redis://")
    again = register_node(client, token, "n1", "127.0.1.1", proof=first)
    assert again["node_id"] == first["node_id"] and again["node_secret"] != first["node_secret"]
    assert again["key_generation"] == 2
    assert "metadata" not in again  # fetched apart: registration stays small whatever the cluster's size
    # the old secret stops working at once; the new one works
    assert client.get(f"{API}/agent/metadata", headers=_auth(first)).status_code == 401
    md = client.get(f"{API}/agent/metadata", headers=_auth(again))
    assert md.status_code == 200
    assert md.json()["content"]["nodes"] == [{"id": first["node_id"], "name": "n1", "address": "127.0.1.1", "zone": "",
                                              "secret_generation": 2}]
    # an agent whose registration answer was lost still holds the previous secret: it may register with it
    third = register_node(client, None, "n1", "127.0.1.1", proof=first)
    assert third["key_generation"] == 3
    r = client.post(f"{API}/agent/register", json={"name": "n1", "address": "127.0.1.1", "node_id": first["node_id"],
                                                  "node_secret": first["node_secret"]})
    assert r.status_code == 401  # two generations back: retired
    assert admin.get("/clusters/c1/nodes").json()["count"] == 1


def test_a_join_token_holder_cannot_take_over_a_registered_name(client, admin):
    token = admin.make_cluster("c1")
    first = register_node(client, token, "n1", "127.0.1.1")
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n1", "address": "127.0.1.1"})
    assert r.status_code == 409 and "allow-rejoin" in r.json()["detail"]
    assert client.get(f"{API}/agent/metadata", headers=_auth(first)).status_code == 200  # nothing rotated
    with Session(client.app.state.engine) as s:
        refused = s.exec(select(Alert).where(Alert.kind == "registration_refused")).all()
    assert len(refused) == 1 and refused[0].severity == "critical"
    # an admin lets the node rejoin once (it lost its state): the join token is then enough, once
    assert admin.post("/clusters/c1/nodes/n1/allow-rejoin", {"minutes": 5}).status_code == 200
    rejoined = register_node(client, token, "n1", "127.0.1.1")
    assert rejoined["node_id"] == first["node_id"] and rejoined["key_generation"] == 2
    assert client.get(f"{API}/agent/metadata", headers=_auth(first)).status_code == 401
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n1", "address": "127.0.1.1"})
    assert r.status_code == 409


def test_allow_rejoin_needs_the_admin_role(client, admin):
    token = admin.make_cluster("c1")
    register_node(client, token, "n1", "127.0.1.1")
    maintainer = admin.make_user("mia", "maintainer", scope="cluster", cluster="c1")
    assert maintainer.post("/clusters/c1/nodes/n1/allow-rejoin", {}).status_code == 403


def test_refusals_reveal_nothing_about_other_nodes(client, admin):
    token = admin.make_cluster("c1")
    register_node(client, token, "n1", "127.0.1.1")
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n1", "address": "127.0.1.9"})
    assert r.status_code == 409 and "127.0.1.1" not in r.text
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n9", "address": "127.0.1.1"})
    assert r.status_code == 409 and "n1" not in r.text and "own storage `address`" in r.json()["detail"]
    assert admin.get("/clusters/c1/nodes").json()["count"] == 1


def test_bad_registrations_are_4xx(client, admin):
    token = admin.make_cluster("c1")
    node = register_node(client, token, "n0", "127.0.1.10")
    cases = [
        {"join_token": "kjt_wrong", "name": "n1", "address": "127.0.1.1"},
        {"join_token": token, "name": "bad/name", "address": "127.0.1.1"},
        {"join_token": token, "name": "n1", "address": "not an address"},
        {"join_token": token, "name": "n1", "address": "127.0.1.1", "extra": 1},
        {"name": "n1", "address": "127.0.1.1"},
        {"name": "n0", "address": "127.0.1.10", "node_id": node["node_id"], "node_secret": "0" * 64},
        {"name": "n0", "address": "127.0.1.10", "node_id": "../../x", "node_secret": node["node_secret"]},
    ]
    codes = [client.post(f"{API}/agent/register", json=c).status_code for c in cases]
    assert codes == [401, 422, 422, 422, 401, 401, 401]
    assert admin.get("/clusters/c1/nodes").json()["count"] == 1


def test_node_credentials_read_own_metadata_and_cannot_report_for_another_node(client, admin):
    a = register_node(client, admin.make_cluster("a"), "n1", "127.0.1.1")
    b = register_node(client, admin.make_cluster("b"), "n1", "127.0.1.1")
    md = client.get(f"{API}/agent/metadata", headers=_auth(a)).json()
    assert md["content"]["cluster"]["name"] == "a"
    r = client.post(f"{API}/agent/heartbeat", json=_hb(b), headers=_auth(a))
    assert r.status_code == 403
    nodes_b = admin.get("/clusters/b/nodes").json()["data"]
    assert nodes_b[0]["state"] == "Registered" and nodes_b[0]["last_heartbeat_at"] is None
    r = client.post(f"{API}/agent/heartbeat", json=_hb(a, hostname="h1"), headers=_auth(a))
    assert r.status_code == 204
    assert admin.get("/clusters/a/nodes/n1").json()["state"] == "Online"
    forged = {"Authorization": f"Node {b['node_id']}:{a['node_secret']}"}
    assert client.get(f"{API}/agent/metadata", headers=forged).status_code == 401


def test_heartbeats_need_a_time_and_a_replay_changes_nothing(client, admin, monkeypatch):
    monkeypatch.setattr(client.app.state.settings, "heartbeat_min_gap", 0.0)  # no throttling here (see below)
    node = register_node(client, admin.make_cluster("c1"), "n1", "127.0.1.1")
    r = client.post(f"{API}/agent/heartbeat", json={"node_id": node["node_id"], "hostname": "h0"}, headers=_auth(node))
    assert r.status_code == 422  # no sent_at: its age cannot be told
    beat = _hb(node, hostname="h1")
    assert client.post(f"{API}/agent/heartbeat", json=beat, headers=_auth(node)).status_code == 204
    newer = {**_hb(node, hostname="h2"), "sent_at": beat["sent_at"] + 1}
    assert client.post(f"{API}/agent/heartbeat", json=newer, headers=_auth(node)).status_code == 204
    assert admin.get("/clusters/c1/nodes/n1").json()["hostname"] == "h2"
    # the first heartbeat, captured and sent again: dropped
    assert client.post(f"{API}/agent/heartbeat", json=beat, headers=_auth(node)).status_code == 204
    assert admin.get("/clusters/c1/nodes/n1").json()["hostname"] == "h2"
    old = _hb(node, hostname="h3", sent_at=time.time() - 3600)
    future = _hb(node, hostname="h4", sent_at=time.time() + 3600)
    for hb in (old, future):
        client.post(f"{API}/agent/heartbeat", json=hb, headers=_auth(node))
    assert admin.get("/clusters/c1/nodes/n1").json()["hostname"] == "h2"


def test_a_node_sending_heartbeats_faster_than_allowed_is_throttled_not_obeyed(client, admin, monkeypatch):
    monkeypatch.setattr(client.app.state.settings, "heartbeat_min_gap", 30.0)
    node = register_node(client, admin.make_cluster("c1"), "n1", "127.0.1.1")
    first = _hb(node, hostname="h1")
    assert client.post(f"{API}/agent/heartbeat", json=first, headers=_auth(node)).status_code == 204
    assert admin.get("/clusters/c1/nodes/n1").json()["state"] == "Online"
    for i in range(2, 6):  # newer each time, but within the gap: not applied
        hb = {**_hb(node, hostname=f"h{i}"), "sent_at": first["sent_at"] + i}
        assert client.post(f"{API}/agent/heartbeat", json=hb, headers=_auth(node)).status_code == 204
    shown = admin.get("/clusters/c1/nodes/n1").json()
    assert shown["hostname"] == "h1" and shown["state"] == "Online"
    monkeypatch.setattr(client.app.state.settings, "heartbeat_min_gap", 0.0)  # the gap has passed
    late = {**_hb(node, hostname="h9"), "sent_at": first["sent_at"] + 9}
    assert client.post(f"{API}/agent/heartbeat", json=late, headers=_auth(node)).status_code == 204
    assert admin.get("/clusters/c1/nodes/n1").json()["hostname"] == "h9"


def test_registration_requeues_tasks_the_restarted_agent_was_running(client, admin, redis_client):
    from sqlalchemy import update

    from controlplane.models import Task

    token = admin.make_cluster("c1")
    node = register_node(client, token, "n1", "127.0.1.1")
    task_id = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1"}).json()["task"]["id"]
    with Session(client.app.state.engine) as s:
        s.execute(update(Task).where(Task.id == task_id).values(phase="running"))
        s.commit()
    redis_client.delete(node_queue(node["node_id"]))
    register_node(client, token, "n1", "127.0.1.1", proof=node)
    task = admin.get(f"/tasks/{task_id}").json()
    assert task["phase"] == "queued" and task["attempts"] == 2
    assert any(task_id.encode() in m for m in redis_client.lrange(node_queue(node["node_id"]), 0, -1))
