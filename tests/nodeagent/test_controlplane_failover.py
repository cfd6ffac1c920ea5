"""An agent given several API replicas (KADALU_URL=a,b) goes on with the next when one is down."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from controlplane.embedded_redis import free_port
from nodeagent.controlplane_client import ControlPlaneClient


def replica(status: int):
    """A tiny HTTP server answering every request with `status`; returns (url, requests seen)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            seen.append(self.path)
            body = json.dumps({"version": 7, "content": {}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", seen


@pytest.fixture
def replicas():
    made = []

    def make(status):
        made.append(replica(status))
        return made[-1][1:]
    yield make
    for server, *_ in made:
        server.shutdown()
        server.server_close()


def test_a_replica_that_refuses_connections_is_skipped_and_the_answering_one_remembered(replicas):
    dead = f"http://127.0.0.1:{free_port()}"
    url, seen = replicas(200)
    client = ControlPlaneClient(f"{dead}, {url}/")
    assert client.metadata("n", "s")["version"] == 7
    assert client.url == url and seen == ["/api/v1/agent/metadata"]
    client.metadata("n", "s")
    assert len(seen) == 2  # straight to the replica that answered


def test_a_503_from_one_replica_goes_to_the_next_but_a_4xx_is_the_answer(replicas):
    busy, busy_seen = replicas(503)
    ok, ok_seen = replicas(200)
    client = ControlPlaneClient(f"{busy},{ok}")
    client.metadata("n", "s")
    assert len(busy_seen) == 1 and len(ok_seen) == 1
    refusing, refusing_seen = replicas(401)
    with pytest.raises(Exception, match="401"):
        ControlPlaneClient(f"{refusing},{ok}").metadata("n", "s")
    assert len(ok_seen) == 1  # a refusal is not an outage: no other replica asked


def test_when_every_replica_is_down_the_error_says_so_and_no_url_is_refused():
    with pytest.raises(httpx.ConnectError):
        ControlPlaneClient(f"http://127.0.0.1:{free_port()},http://127.0.0.1:{free_port()}").metadata("n", "s")
    with pytest.raises(ValueError, match="KADALU_URL"):
        ControlPlaneClient(" , ")
