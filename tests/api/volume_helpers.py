"""Helpers for volume API tests: create through the API, and play the agents' results back the way
the control worker applies them."""
from sqlmodel import Session, select

from contracts.messages import TaskResult
from controlplane.models import Task
from controlplane.services import reconcile


def ready_device(client, admin, node: str, path: str, cluster: str = "c1", size: int = 100 << 30) -> dict:
    """Register a directory device on `node` and play its agent's ADD_DEVICE success: a Ready device."""
    r = admin.post(f"/clusters/{cluster}/nodes/{node}/devices", {"path": path})
    assert r.status_code == 202, r.text
    body = r.json()
    with Session(client.app.state.engine) as s:
        task = s.get(Task, body["task"]["id"])
        reconcile.apply_result(s, TaskResult(task_id=task.id, node_id=task.node_id, ok=True,
                                             data={"size_bytes": size, "free_bytes": size}))
    return body["device"]


def create(admin, name, bricks, **kw):
    return admin.post("/clusters/c1/volumes", {"name": name, "bricks": bricks, **kw})


def finish_all(client, volume_id, ok=True, error=None):
    """Apply agent results the way the control worker does, for every active task of the volume."""
    with Session(client.app.state.engine) as s:
        active = s.exec(select(Task).where(Task.volume_id == volume_id, Task.phase.in_(["queued", "running"]))).all()
        for t in active:
            data = {"pid": 4242, "port": 1} if t.kind == "START_BRICK" else {}
            reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=ok, data=data, error=error))
        return len(active)


R3 = ["n1:/e/b1", "n2:/e/b2", "n3:/e/b3"]
