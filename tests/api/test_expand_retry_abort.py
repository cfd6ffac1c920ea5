"""A failed expand is retried (only what failed is sent again) or aborted (its bricks are taken out
again and the volume returns to where it was); nothing else may happen to it meanwhile."""
from sqlmodel import Session, select

from contracts.messages import TaskError, TaskResult
from controlplane.models import Brick, Task, Volume
from controlplane.services import reconcile
from tests.api.volume_helpers import create, finish_all

NEW = ["n3:/e/d/3", "n4:/e/d/4"]
ENOENT = TaskError(code="not_found", errno="ENOENT", message="no such directory", hint="create it")


def started_dv(client, admin) -> dict:
    vol = create(admin, "dv", ["n1:/e/d/1", "n2:/e/d/2"]).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/dv").json()["state"] == "Started"
    return vol


def active(client, volume_id) -> list[Task]:
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(Task).where(Task.volume_id == volume_id, Task.phase.in_(["queued", "running"]))))


def answer(client, task: Task, ok: bool) -> None:
    with Session(client.app.state.engine) as s:
        reconcile.apply_result(s, TaskResult(task_id=task.id, node_id=task.node_id, ok=ok,
                                             data={"pid": 1, "port": 1} if ok else {}, error=None if ok else ENOENT))


def failed_expand(client, admin, vol) -> dict[str, str]:
    """Expand dv by two bricks; the brick on n4 fails to be created. Returns {node: brick id} of the new bricks."""
    assert admin.post("/clusters/c1/volumes/dv/expand", {"bricks": NEW}).status_code == 202
    new = {"n3": _brick_on(client, "n3"), "n4": _brick_on(client, "n4")}
    step = active(client, vol["id"])
    assert sorted(t.kind for t in step) == ["CREATE_BRICK", "CREATE_BRICK"]
    for t in step:
        answer(client, t, ok=t.spec["brick_id"] == new["n3"])
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "ExpandFailed" and got["failed"] and "no such directory" in got["reason"]
    return new


def _brick_on(client, node_name: str) -> str:
    from controlplane.models import Node

    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == node_name)).one()
        return s.exec(select(Brick.id).where(Brick.node_id == node.id, Brick.path.like("/e/d/%"))).one()


def test_a_failed_expand_refuses_everything_but_retry_and_abort(client, admin, nodes):
    vol = started_dv(client, admin)
    failed_expand(client, admin, vol)
    for path, body in (("expand", {"bricks": ["n3:/e/d/5", "n4:/e/d/6"]}), ("stop", {}), ("start", {}),
                       ("rebalance/start", {})):
        r = admin.post(f"/clusters/c1/volumes/dv/{path}", body)
        assert r.status_code == 409, (path, r.text)
    assert "--retry" in admin.post("/clusters/c1/volumes/dv/expand", {"bricks": NEW}).json()["detail"]


def test_retry_sends_again_only_what_failed_then_goes_on(client, admin, nodes):
    vol = started_dv(client, admin)
    new = failed_expand(client, admin, vol)
    r = admin.post("/clusters/c1/volumes/dv/expand/retry", {})
    assert r.status_code == 202 and r.json()["state"] == "Expanding" and not r.json()["settled"]
    step = active(client, vol["id"])
    assert [(t.kind, t.spec["brick_id"]) for t in step] == [("CREATE_BRICK", new["n4"])]
    answer(client, step[0], ok=True)
    step = active(client, vol["id"])  # the volume runs: the new bricks start
    assert sorted((t.kind, t.spec["brick_id"]) for t in step) == sorted(("START_BRICK", b) for b in new.values())
    for t in step:
        answer(client, t, ok=True)
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "Started" and got["settled"] and got["brick_count"] == 4
    with Session(client.app.state.engine) as s:
        assert s.get(Volume, vol["id"]).expand_from is None


def test_abort_takes_the_new_bricks_out_and_returns_the_volume(client, admin, nodes):
    vol = started_dv(client, admin)
    new = failed_expand(client, admin, vol)
    assert admin.post("/clusters/c1/volumes/dv/expand/abort", {}).json()["state"] == "AbortingExpand"
    step = active(client, vol["id"])
    assert sorted((t.kind, t.spec["brick_id"]) for t in step) == sorted(("DELETE_BRICK", b) for b in new.values())
    assert all(not t.spec["purge"] for t in step)  # their files stay
    for t in step:
        answer(client, t, ok=True)
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "Started" and got["brick_count"] == 2
    assert [b["path"] for b in got["bricks"]] == ["/e/d/1", "/e/d/2"]
    # the same bricks can be added again
    assert admin.post("/clusters/c1/volumes/dv/expand", {"bricks": NEW}).status_code == 202


def test_a_failed_abort_can_be_aborted_again(client, admin, nodes):
    vol = started_dv(client, admin)
    failed_expand(client, admin, vol)
    admin.post("/clusters/c1/volumes/dv/expand/abort", {})
    for t in active(client, vol["id"]):
        answer(client, t, ok=False)
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "ExpandFailed" and got["reason"].startswith("abort failed")
    admin.post("/clusters/c1/volumes/dv/expand/abort", {})
    for t in active(client, vol["id"]):
        answer(client, t, ok=True)
    assert admin.get("/clusters/c1/volumes/dv").json()["brick_count"] == 2


def test_retry_and_abort_need_a_failed_expand_and_the_maintainer_role(client, admin, nodes):
    vol = started_dv(client, admin)
    for path in ("expand/retry", "expand/abort"):
        r = admin.post(f"/clusters/c1/volumes/dv/{path}", {})
        assert r.status_code == 409 and "ExpandFailed" in r.json()["detail"], r.text
    failed_expand(client, admin, vol)
    viewer = admin.make_user("vic", "viewer", scope="cluster", cluster="c1")
    for path in ("expand/retry", "expand/abort"):
        assert viewer.post(f"/clusters/c1/volumes/dv/{path}", {}).status_code == 403
    assert admin.get("/clusters/c1/volumes/dv").json()["state"] == "ExpandFailed"
