"""Request bodies over KADALU_MAX_REQUEST_BYTES are refused with 413 before anything reads them.

Finding 10: one unauthenticated 13 MB login body of unknown keys took 10.6 s, answered 63 MB of
422 and stalled /health for 6 s. These tests send such bodies to the app (TestClient) and to a
real uvicorn process over raw sockets, so what the server reads is under the test's control.
"""
import functools
import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from controlplane.api.app import create_app
from controlplane.migrate import upgrade
from controlplane.settings import Settings
from tests.api_process import api_process
from tests.conftest import REDIS_URL
from tests.factories import API

LOGIN = f"{API}/auth/login"
MiB = 1024 * 1024


@functools.cache
def huge() -> bytes:
    """Finding 10's body: 13 MB of keys the login request does not take."""
    return json.dumps({f"unknown-key-{i:07d}": i for i in range(530_000)}).encode()


@pytest.fixture
def small_limit_client(sqlite_database, tmp_path):
    settings = Settings(state_dir=tmp_path, database_url=sqlite_database, broker_url=REDIS_URL,
                        secret_key="k", max_request_bytes=2048)
    with TestClient(create_app(settings)) as c:
        yield c


def test_default_limit_is_one_mib_and_configurable(monkeypatch):
    assert Settings().max_request_bytes == MiB
    monkeypatch.setenv("KADALU_MAX_REQUEST_BYTES", "2048")
    assert Settings().max_request_bytes == 2048


def test_a_declared_length_over_the_limit_is_refused_before_authentication(small_limit_client):
    body = json.dumps({"name": "x" * 5000}).encode()
    r = small_limit_client.post(f"{API}/clusters", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text  # not 401: the route never ran
    assert "KADALU_MAX_REQUEST_BYTES" in r.json()["detail"] and "2048" in r.json()["detail"]


def test_a_body_without_length_is_stopped_once_it_passes_the_limit(small_limit_client):
    chunks = (b" " * 1024 for _ in range(100))  # no Content-Length: sent chunked
    r = small_limit_client.post(LOGIN, content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"].startswith("the request body is larger than 2048 bytes")


def test_a_body_under_the_limit_reaches_the_route(small_limit_client):
    r = small_limit_client.post(LOGIN, json={"username": "n" * 300, "password": "p" * 1000})
    assert r.status_code == 401  # parsed, validated and answered by the route


# --- a real uvicorn process ---------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("body-limit")
    url = f"sqlite:///{root / 'kadalu.db'}"
    upgrade(url)
    with api_process(url, root / "server") as proc:
        yield proc


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
    return sock


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_uvicorn_answers_413_to_a_declared_13_mb_body_without_reading_it(server):
    with _connect(server.url) as sock:
        sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(huge())}\r\n\r\n".encode())
        # not one byte of the body is sent: the answer can only come if nothing waits for it
        status, body = _read_answer(sock)
    assert status == 413 and len(body) < 300, body
    assert httpx.get(f"{server.url}{API}/health", timeout=10).status_code == 200


def test_uvicorn_stops_a_chunked_body_soon_after_the_limit(server):
    with _connect(server.url) as sock:
        sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        piece = huge()[:64 * 1024]
        for _ in range(17):  # 1.06 MiB, and the body is never finished
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        status, body = _read_answer(sock)
    assert status == 413, body


def test_uvicorn_stays_responsive_while_a_large_body_is_refused(server):
    with _connect(server.url) as slow:
        # a client that declared a body under the limit and sends it slowly holds no one else up
        slow.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {MiB}\r\n\r\n".encode() + huge()[:1000])
        r = httpx.post(f"{server.url}{LOGIN}", content=huge(), headers={"content-type": "application/json"},
                       timeout=30)
        assert r.status_code == 413 and len(r.content) < 300
        assert httpx.get(f"{server.url}{API}/health", timeout=10).status_code == 200
