"""Helpers for snapshot API tests: play the agents' results of snapshot tasks back the way the control
worker applies them."""
from sqlmodel import Session, col, select

from contracts.messages import TaskError, TaskResult
from controlplane.models import Task
from controlplane.services import reconcile
from tests.api.volume_helpers import create, finish_all

SNAPSHOT_KINDS = ("SNAPSHOT_PROBE", "SNAPSHOT_BARRIER", "SNAPSHOT_TAKE", "SNAPSHOT_REMOVE", "SNAPSHOT_RESTORE",
                  "SNAPSHOT_CLONE")


def active(client, kinds=SNAPSHOT_KINDS) -> list[Task]:
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(Task).where(col(Task.kind).in_(kinds), col(Task.phase).in_(["queued", "running"]))))


def _data(t: Task) -> dict:
    spec = t.spec
    brick = next(b for b in spec["volume"]["bricks"] if b["id"] == spec["brick_id"])
    if t.kind == "SNAPSHOT_PROBE":
        return {"backend": "btrfs"}
    if t.kind == "SNAPSHOT_TAKE":
        return {"path": f"/e/.kadalu-snapshots/{spec['snapshot_id']}/{brick['id']}/{brick['path'].rsplit('/', 1)[1]}"}
    return {}


def play(client, fail_brick: str | None = None, message: str = "refused") -> list[str]:
    """Answer every active snapshot task, in one round; the task of `fail_brick` (a path) fails."""
    done = []
    with Session(client.app.state.engine) as s:
        for t in active(client):
            t = s.get(Task, t.id)
            brick = next(b for b in t.spec["volume"]["bricks"] if b["id"] == t.spec["brick_id"])
            bad = fail_brick is not None and brick["path"] == fail_brick
            error = TaskError(code="not_snapshottable" if t.kind == "SNAPSHOT_PROBE" else "backend_failed",
                              message=f"{brick['path']}: {message}") if bad else None
            reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=not bad,
                                                 data={} if bad else _data(t), error=error))
            done.append(t.kind)
    return done


def started_volume(client, admin, name, bricks):
    """A Started replica-3 volume (3 bricks) or distribute volume."""
    vol = create(admin, name, bricks, **({"replica": 3} if len(bricks) == 3 else {})).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    return vol


def take(client, admin, volume: str, name: str) -> dict:
    """A Created snapshot: every step answered."""
    r = admin.post("/clusters/c1/snapshots", {"volume": volume, "name": name})
    assert r.status_code == 202, r.text
    for _ in range(4):
        play(client)
    snap = admin.get(f"/clusters/c1/snapshots/{name}").json()
    assert snap["state"] == "Created", snap
    return snap
