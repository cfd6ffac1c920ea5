from contracts.task_names import node_queue
from tests.factories import API, register_node


def test_registration_is_idempotent_and_hands_out_broker_and_metadata(client, admin):
    token = admin.make_cluster("c1")
    first = register_node(client, token, "n1", "127.0.1.1")
    again = register_node(client, token, "n1", "127.0.1.1")
    assert first["node_id"] == again["node_id"] and first["node_secret"] == again["node_secret"]
    assert first["broker_url"].startswith("redis://")
    assert again["metadata"]["content"]["nodes"] == [{"id": first["node_id"], "name": "n1", "address": "127.0.1.1"}]
    assert admin.get("/clusters/c1/nodes").json()["count"] == 1


def test_a_name_taken_by_another_node_is_refused(client, admin):
    token = admin.make_cluster("c1")
    register_node(client, token, "n1", "127.0.1.1")
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n1", "address": "127.0.1.9"})
    assert r.status_code == 409 and "another --name" in r.json()["detail"]
    r = client.post(f"{API}/agent/register", json={"join_token": token, "name": "n9", "address": "127.0.1.1"})
    assert r.status_code == 409 and "already belongs to node 'n1'" in r.json()["detail"]
    assert admin.get("/clusters/c1/nodes").json()["count"] == 1


def test_bad_registrations_are_4xx(client, admin):
    token = admin.make_cluster("c1")
    cases = [
        {"join_token": "kjt_wrong", "name": "n1", "address": "127.0.1.1"},
        {"join_token": token, "name": "bad/name", "address": "127.0.1.1"},
        {"join_token": token, "name": "n1", "address": "not an address"},
        {"join_token": token, "name": "n1", "address": "127.0.1.1", "extra": 1},
    ]
    codes = [client.post(f"{API}/agent/register", json=c).status_code for c in cases]
    assert codes == [401, 422, 422, 422]
    assert admin.get("/clusters/c1/nodes").json()["count"] == 0


def test_node_credentials_read_own_metadata_and_cannot_report_for_another_node(client, admin):
    a = register_node(client, admin.make_cluster("a"), "n1", "127.0.1.1")
    b = register_node(client, admin.make_cluster("b"), "n1", "127.0.1.1")
    auth_a = {"Authorization": f"Node {a['node_id']}:{a['node_secret']}"}
    md = client.get(f"{API}/agent/metadata", headers=auth_a).json()
    assert md["content"]["cluster"]["name"] == "a"
    r = client.post(f"{API}/agent/heartbeat", json={"node_id": b["node_id"]}, headers=auth_a)
    assert r.status_code == 403
    nodes_b = admin.get("/clusters/b/nodes").json()["data"]
    assert nodes_b[0]["state"] == "Registered" and nodes_b[0]["last_heartbeat_at"] is None
    r = client.post(f"{API}/agent/heartbeat", json={"node_id": a["node_id"], "hostname": "h1"}, headers=auth_a)
    assert r.status_code == 204
    assert admin.get("/clusters/a/nodes/n1").json()["state"] == "Online"
    forged = {"Authorization": f"Node {b['node_id']}:{a['node_secret']}"}
    assert client.get(f"{API}/agent/metadata", headers=forged).status_code == 401


def test_registration_requeues_tasks_the_restarted_agent_was_running(client, admin, redis_client):
    from sqlalchemy import update
    from sqlmodel import Session

    from controlplane.models import Task

    token = admin.make_cluster("c1")
    node = register_node(client, token, "n1", "127.0.1.1")
    task_id = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/b1"}).json()["task"]["id"]
    with Session(client.app.state.engine) as s:
        s.execute(update(Task).where(Task.id == task_id).values(phase="running"))
        s.commit()
    redis_client.delete(node_queue(node["node_id"]))
    register_node(client, token, "n1", "127.0.1.1")
    task = admin.get(f"/tasks/{task_id}").json()
    assert task["phase"] == "queued" and task["attempts"] == 2
    assert any(task_id.encode() in m for m in redis_client.lrange(node_queue(node["node_id"]), 0, -1))
