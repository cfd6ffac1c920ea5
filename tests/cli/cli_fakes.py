"""Test doubles for the CLI tests: a fake control plane served through `httpx.MockTransport`
(the only thing mocked: the HTTP edge) and payload makers shaped as in docs/api.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.states import VOLUME_FAILED, volume_settled

BASE_URL = "http://kadalu.test:8080"
TOKEN = "tok-123"
API = "/api/v1"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Route:
    method: str
    path: str
    responses: list[Handler]
    auth: str | None
    calls: list[httpx.Request] = field(default_factory=list)


class FakeServer:
    """Routes keyed by (method, path under /api/v1). Each route answers its responses in order
    (the last one repeats) and checks the Authorization header it expects."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[httpx.Request] = []
        self.unexpected: list[str] = []

    def on(
        self,
        method: str,
        path: str,
        *answers: Any,
        status: int = 200,
        auth: str | None = f"Bearer {TOKEN}",
    ) -> Route:
        """Register answers: JSON payloads (sent with `status`), httpx.Response objects or
        callables taking the request."""
        handlers: list[Handler] = []
        for answer in answers or (None,):
            if callable(answer):
                handlers.append(answer)
            elif isinstance(answer, httpx.Response):
                handlers.append(lambda _req, resp=answer: resp)
            elif answer is None and status == 204:
                handlers.append(lambda _req: httpx.Response(204))
            else:
                handlers.append(lambda _req, a=answer: httpx.Response(status, json=a))
        route = Route(method, API + path, handlers, auth)
        self.routes[(method, API + path)] = route
        return route

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            self.unexpected.append(f"{request.method} {request.url}")
            return httpx.Response(404, json={"detail": "unexpected request in test"})
        got_auth = request.headers.get("authorization")
        if got_auth != route.auth:
            self.unexpected.append(f"{request.method} {request.url.path}: auth {got_auth!r}")
            return httpx.Response(401, json={"detail": "bad auth in test"})
        index = min(len(route.calls), len(route.responses) - 1)
        route.calls.append(request)
        return route.responses[index](request)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


# Realistic payloads, shaped as in docs/api.md.

def make_user(username="admin", grants=None):
    return {
        "id": f"u-{username}",
        "username": username,
        "created_at": "2025-01-01T10:00:00Z",
        "grants": grants if grants is not None else [
            {"id": "g-1", "role": "admin", "scope": "all", "cluster": None, "name": None}
        ],
    }


def make_cluster(name="default", node_count=2):
    return {"id": f"c-{name}", "name": name, "created_at": "2025-01-01T10:00:00Z",
            "node_count": node_count, "metadata_version": 7}


def make_node(name="node1", state="Online", age=3.4, devices=1):
    return {
        "id": f"n-{name}", "name": name, "address": f"10.0.0.{len(name)}", "state": state,
        "hostname": f"{name}.example.com", "glusterfs_version": "11.1", "agent_version": "0.1.0",
        "last_heartbeat_at": "2025-01-01T10:00:00Z", "heartbeat_age_seconds": age,
        "registered_at": "2025-01-01T09:00:00Z", "device_count": devices,
    }


def make_device(node="node1", path="/data/brick1", state="Ready", device_id="d-1",
                size=10 * 1024**3, free=4 * 1024**3):
    return {
        "id": device_id, "node": node, "path": path, "kind": "directory", "state": state,
        "size_bytes": size, "free_bytes": free, "reason": None, "task_id": "t-1",
        "created_at": "2025-01-01T10:00:00Z",
    }


def make_task(task_id="t-1", phase="queued", state="QUEUED", error=None, result=None,
              kind="ADD_DEVICE"):
    return {
        "id": task_id, "cluster": "default", "node": "node1", "kind": kind, "phase": phase,
        "state": state, "spec": {"path": "/data/brick1"}, "reason": None, "error": error,
        "result": result, "created_at": "2025-01-01T10:00:00Z", "started_at": None,
        "finished_at": None, "attempts": 1,
    }


def make_alert(alert_id="a-1"):
    return {"id": alert_id, "cluster": "default", "node": "node2", "kind": "NODE_UNREACHABLE",
            "severity": "warning", "message": "node2 missed 3 heartbeats",
            "created_at": "2025-01-01T10:05:00Z"}


def make_brick(node="node1", path="/data/b1", set_=0, online=True, port=49152, pid=4242,
               size=10 * 1024**3, free=4 * 1024**3, state="Started", brick_id=None):
    return {
        "id": brick_id or f"b-{node}-{path.strip('/').replace('/', '-')}", "node": node,
        "address": f"10.0.0.{node[-1]}", "path": path, "port": port, "set": set_,
        "state": state, "pid": pid, "online": online, "size_bytes": size, "free_bytes": free,
        "reported_at": "2025-01-01T10:06:00Z",
    }


def make_volume(name="vol1", state="Started", health="Up", vtype="replicate", replica=3,
                arbiter=0, disperse=0, redundancy=0, bricks=None, reason="",
                waiting_for=None, cluster="default"):
    if bricks is None:
        bricks = [make_brick(f"node{i}", "/data/b1") for i in (1, 2, 3)]
    set_size = disperse or replica or 1
    return {
        "id": f"v-{name}", "name": name, "cluster": cluster, "type": vtype, "state": state,
        # as the server computes them (controlplane/api/present.py)
        "settled": volume_settled(state), "failed": state in VOLUME_FAILED,
        "health": health, "replica_count": replica, "arbiter_count": arbiter,
        "disperse_count": disperse, "redundancy_count": redundancy,
        "brick_count": len(bricks), "set_size": set_size, "reason": reason,
        "waiting_for": waiting_for or [], "created_at": "2025-01-01T10:00:00Z",
        "updated_at": "2025-01-01T10:06:00Z", "bricks": bricks, "message": "",
    }


def make_failure(volume="vol1", node="node2", kind="START_BRICK", errno="ENOENT", code="enoent",
                 message="brick directory /data/b1 does not exist",
                 hint="create /data/b1 on node2 or recreate the volume with another brick",
                 cluster="default"):
    return {"task_id": "t-9", "cluster": cluster, "volume": volume, "node": node, "kind": kind,
            "errno": errno, "code": code, "message": message, "hint": hint,
            "created_at": "2025-01-01T10:07:00Z"}


VOLFILE = """volume vol1-client-0
    type protocol/client
    option remote-host 10.0.0.1
    option remote-subvolume /data/b1
end-volume
"""
