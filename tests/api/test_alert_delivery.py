"""Alert changes reach a webhook (a real HTTP receiver on this machine) as Alertmanager's payload,
once each, and a receiver that fails gets them later with a growing delay."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.models import Alert, Cluster
from controlplane.services import alert_delivery, alerts


class Receiver:
    """Answers 500 to the first `failures` posts, then 200; keeps every body it accepted."""

    def __init__(self, failures: int = 0):
        self.failures, self.accepted, self.refused = failures, [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.failures > 0:
                    outer.failures -= 1
                    outer.refused += 1
                    self.send_response(500)
                else:
                    outer.accepted.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(failures=0):
        made.append(Receiver(failures))
        return made[-1]
    yield make
    for r in made:
        r.close()


def _deliver(client, url):
    with Session(client.app.state.engine) as s:
        return alert_delivery.deliver(s, alert_delivery.http_post(url, 5), max_attempts=3)


def _raise(client, key="brick_down:b1", resolve=False):
    with Session(client.app.state.engine) as s:
        cluster = s.exec(select(Cluster).where(Cluster.name == "c1")).one()
        if resolve:
            alerts.resolve(s, cluster.id, key)
        else:
            alerts.record(s, cluster.id, "brick_down", "brick n1:/e/b1 of volume v1 is not running", key=key)
        s.commit()


def test_fired_and_resolved_alerts_are_delivered_once_each_as_alertmanager_payload(client, admin, receiver):
    admin.make_cluster("c1")
    hook = receiver()
    _raise(client)
    assert _deliver(client, hook.url) == 1
    assert _deliver(client, hook.url) == 0  # nothing new
    (body,) = hook.accepted
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "kadalu"
    (item,) = body["alerts"]
    assert item["labels"] == {"alertname": "brick_down", "severity": "warning", "cluster": "c1"}
    assert item["annotations"]["summary"].startswith("brick n1:/e/b1")
    assert item["startsAt"].endswith("Z") and item["endsAt"] == "0001-01-01T00:00:00Z"
    _raise(client, resolve=True)
    assert _deliver(client, hook.url) == 1
    resolved = hook.accepted[1]["alerts"][0]
    assert resolved["status"] == "resolved" and resolved["endsAt"] != "0001-01-01T00:00:00Z"
    assert resolved["fingerprint"] == item["fingerprint"]


def test_a_failing_receiver_gets_the_alert_later_with_backoff_then_it_is_dropped(client, admin, receiver):
    admin.make_cluster("c1")
    hook = receiver(failures=1)
    _raise(client)
    assert _deliver(client, hook.url) == 0 and hook.refused == 1
    assert _deliver(client, hook.url) == 0 and hook.refused == 1  # waits for its retry time
    with Session(client.app.state.engine) as s:
        row = s.exec(select(Alert)).one()
        assert row.notify_attempts == 1 and row.notify_after is not None
        s.execute(update(Alert).values(notify_after=row.notify_after - timedelta(seconds=60)))
        s.commit()
    assert _deliver(client, hook.url) == 1 and len(hook.accepted) == 1

    dead = receiver(failures=100)
    _raise(client, key="brick_down:b2")
    for _ in range(3):
        _deliver(client, dead.url)
        with Session(client.app.state.engine) as s:
            s.execute(update(Alert).values(notify_after=None))
            s.commit()
    assert dead.refused == 3
    assert _deliver(client, dead.url) == 0 and dead.refused == 3  # gave up after max_attempts
