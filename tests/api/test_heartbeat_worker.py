"""The heartbeat worker's consumer on a real (private) Redis: it takes the Celery task messages agents
send, applies them in batches, and acknowledges what it cannot use instead of choking on it."""
import threading
import time

import pytest
from celery import Celery
from kombu import Connection
from sqlmodel import Session, select

import celeryconfig
from contracts import signing
from contracts.task_names import HEARTBEAT, HEARTBEAT_QUEUE
from controlplane import broker_users, embedded_redis, heartbeat_worker
from controlplane.models import Node
from controlplane.settings import Settings
from tests.factories import register_node
from tests.integration.harness import wait_for


@pytest.fixture
def broker(tmp_path):
    proc, url = embedded_redis.start(tmp_path / "broker", broker_users.CONTROLPLANE_USER, "pw")
    yield url
    proc.terminate()
    proc.wait(10)


def test_heartbeat_messages_are_drained_in_batches_and_junk_is_acknowledged(client, admin, settings, broker):
    token = admin.make_cluster("c1")
    made = [register_node(client, token, f"n{i}", f"127.0.1.{i}") for i in range(1, 6)]
    agent = Celery("test-agent", set_as_current=False)
    agent.conf.update(celeryconfig.agent_config(broker, made[0]["node_id"]))
    forged = signing.sign(made[4]["node_id"], "not-its-secret", {"node_id": made[4]["node_id"], "sent_at": time.time()})
    for node in made[:4]:
        body = {"node_id": node["node_id"], "sent_at": time.time(), "hostname": f"h-{node['node_id'][:4]}"}
        agent.send_task(HEARTBEAT, args=[signing.sign(node["node_id"], node["node_secret"], body)], queue=HEARTBEAT_QUEUE)
    agent.send_task(HEARTBEAT, args=[forged], queue=HEARTBEAT_QUEUE)
    agent.send_task(HEARTBEAT, args=["not an envelope", 2], queue=HEARTBEAT_QUEUE)
    agent.send_task("kadalu.controlplane.task_result", args=[{}], queue=HEARTBEAT_QUEUE)  # another task on this queue
    with Connection(broker) as conn:  # not a Celery message at all
        conn.SimpleQueue(HEARTBEAT_QUEUE).put("raw text", serializer="raw", content_type="text/plain")
    mine = Settings(state_dir=settings.state_dir, database_url=settings.database_url, broker_url=broker,
                    secret_key=settings.secret_key, heartbeat_min_gap=0.0)
    stop = threading.Event()
    worker = threading.Thread(target=heartbeat_worker.run, args=(mine, heartbeat_worker.Limits(batch=3, max_wait=0.1), stop))
    worker.start()
    try:
        def states() -> dict[str, str]:
            with Session(client.app.state.engine) as s:
                return {n.name: n.state for n in s.exec(select(Node))}
        wait_for(lambda: list(states().values()).count("Online") == 4, 30, "four nodes Online")
        redis = agent.connection_for_write().default_channel.client
        wait_for(lambda: redis.llen(HEARTBEAT_QUEUE) == 0 and not redis.hlen("kadalu.controlplane.unacked"), 30,
                 "every message taken and acknowledged")
        assert states()["n5"] == "Registered"
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


def test_the_worker_reconnects_after_the_broker_restarts_empty(client, admin, settings, tmp_path):
    proc, url = embedded_redis.start(tmp_path / "broker", broker_users.CONTROLPLANE_USER, "pw")
    node = register_node(client, admin.make_cluster("c1"), "n1", "127.0.1.1")
    mine = Settings(state_dir=settings.state_dir, database_url=settings.database_url, broker_url=url,
                    secret_key=settings.secret_key, heartbeat_min_gap=0.0)
    stop = threading.Event()
    worker = threading.Thread(target=heartbeat_worker.run, args=(mine, heartbeat_worker.Limits(), stop))
    worker.start()

    def send(hostname: str) -> None:
        agent = Celery("test-agent", set_as_current=False)
        agent.conf.update(celeryconfig.agent_config(url, node["node_id"]))
        body = {"node_id": node["node_id"], "sent_at": time.time(), "hostname": hostname}
        agent.send_task(HEARTBEAT, args=[signing.sign(node["node_id"], node["node_secret"], body)], queue=HEARTBEAT_QUEUE)

    def hostname() -> str:
        with Session(client.app.state.engine) as s:
            return s.exec(select(Node.hostname)).one()
    try:
        send("before")
        wait_for(lambda: hostname() == "before", 30, "the first heartbeat applied")
        proc.terminate()
        proc.wait(10)
        (tmp_path / "broker" / "redis" / "dump.rdb").unlink(missing_ok=True)
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        proc, _ = embedded_redis.start(tmp_path / "broker", broker_users.CONTROLPLANE_USER, "pw", port=port)
        wait_for(lambda: (send("after"), hostname() == "after")[1], 60, "a heartbeat applied after the restart")
    finally:
        stop.set()
        worker.join(30)
        proc.terminate()
        proc.wait(10)
    assert not worker.is_alive()
