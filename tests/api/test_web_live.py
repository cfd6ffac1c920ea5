"""Live pages across processes: a real API process (as `kadalu-server api`) streams a page's
sections; a change committed by another process (here, this test, as the control worker would)
reaches the open stream through the change feed; and an API with open streams still stops."""
import json
import queue
import signal
import threading

import httpx
import pytest
from sqlmodel import Session, select

from controlplane import change_feed
from controlplane.db import make_engine
from controlplane.migrate import upgrade
from controlplane.models import Cluster
from tests.api_process import api_process
from tests.conftest import REDIS_URL


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'kadalu.db'}"
    upgrade(url)
    # no periodic refresh during the test: whatever reaches a stream was announced by the change feed
    with api_process(url, tmp_path / "server", web_refresh_seconds="3600") as srv:
        httpx.post(f"{srv.url}/api/v1/auth/first-user", json={"username": "admin", "password": "password-123"})
        srv.database_url = url
        yield srv


def _reader(client: httpx.Client, path: str, out: queue.Queue) -> None:
    try:
        with client.stream("GET", path, timeout=httpx.Timeout(5, read=None)) as r:
            event = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    out.put((event, json.loads(line[6:])))
    except httpx.HTTPError:
        out.put(("closed", {}))


def _open_overview(server) -> tuple[httpx.Client, queue.Queue]:
    client = httpx.Client(base_url=server.url)
    assert client.post("/ui/login", data={"username": "admin", "password": "password-123"}).status_code in (200, 303)
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(client, "/ui/events", events), daemon=True).start()
    first = events.get(timeout=30)
    assert first[0] == "fragment" and first[1]["id"] == "clusters"
    return client, events


def _next_clusters(events: queue.Queue, timeout: float) -> str:
    while True:
        event, data = events.get(timeout=timeout)
        if event == "fragment" and data.get("id") == "clusters":
            return data["html"]


def test_a_change_committed_by_another_process_reaches_the_open_page(server):
    client, events = _open_overview(server)
    engine = make_engine(server.database_url)
    change_feed.attach(engine, REDIS_URL)  # as the control worker does with its engine
    try:
        with Session(engine) as session:
            session.add(Cluster(name="fromworker", join_token_hash="0" * 64))
            session.commit()
        assert "fromworker" in _next_clusters(events, timeout=30)
        with Session(engine) as session:
            session.delete(session.exec(select(Cluster).where(Cluster.name == "fromworker")).one())
            session.commit()
        assert "fromworker" not in _next_clusters(events, timeout=30)
    finally:
        client.close()
        engine.dispose()


def test_an_api_with_open_event_streams_stops_on_sigterm(server):
    client, _events = _open_overview(server)
    try:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)  # uvicorn would wait for the never-ending stream without a limit
    finally:
        client.close()
