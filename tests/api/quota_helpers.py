"""Helpers for quota API tests: a started replica-3 volume with quota on, the agents' answers played
back as the control worker applies them, and heartbeats carrying usage."""
import time

from sqlmodel import Session, select

from contracts.messages import Heartbeat, QuotaUsageReport, TaskResult
from controlplane.models import Node, Task
from controlplane.services import health, reconcile
from tests.api.volume_helpers import R3, create, finish_all


def started(client, admin, name="qv", bricks=R3) -> dict:
    vol = create(admin, name, bricks).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    return vol


def with_quota(client, admin, name="qv") -> dict:
    vol = started(client, admin, name)
    assert admin.post(f"/clusters/c1/volumes/{name}/quota/enable", {}).status_code == 202
    finish_all(client, vol["id"])  # the RECONFIGURE_BRICK step
    return vol


def answer_quota_task(client, ok=True, data=None, error=None) -> str:
    with Session(client.app.state.engine) as s:
        [task] = s.exec(select(Task).where(Task.kind == "QUOTA_LIMIT", Task.phase == "queued")).all()
        task_id = task.id
        reconcile.apply_result(s, TaskResult(task_id=task_id, node_id=task.node_id, ok=ok, data=data or {}, error=error))
        return task_id


def usage_heartbeat(client, node_id: str, volume_id: str, path: str, used: int, files: int = 1, dirs: int = 1) -> None:
    with Session(client.app.state.engine) as s:
        node = s.get(Node, node_id)
        hb = Heartbeat(node_id=node_id, sent_at=time.time(), quota_usage=[
            QuotaUsageReport(volume_id=volume_id, path=path, used_bytes=used, files=files, dirs=dirs)])
        health.apply_heartbeat(s, node, hb)


def limit(admin, path="/projects/a", hard="10MiB", name="qv", **kw):
    return admin.post(f"/clusters/c1/volumes/{name}/quota/limit-usage", {"path": path, "hard": hard, **kw})
