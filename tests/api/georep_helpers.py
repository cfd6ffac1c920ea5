"""Helpers for geo-replication API tests: a master cluster c1 and a remote cluster c2 in one control
plane, and the agents' answers played back the way the control worker applies them."""
import base64

from sqlalchemy import update
from sqlmodel import Session, select

from contracts.messages import TaskResult
from controlplane.models import Node, Task
from controlplane.services import reconcile
from tests.api.volume_helpers import finish_all, ready_device
from tests.factories import register_node

GEO = "/clusters/c1/geo-replication"
PUBLIC_KEY = "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + b"k" * 32).decode()


def online(client) -> None:
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).values(state="Online"))
        s.commit()


def remote_cluster(client, admin) -> dict:
    """Cluster c2 with nodes r1, r2 (127.0.2.1-2), each with a Ready device /r."""
    token = admin.make_cluster("c2")
    made = {f"r{i}": register_node(client, token, f"r{i}", f"127.0.2.{i}") for i in (1, 2)}
    for name in made:
        ready_device(client, admin, name, "/r", cluster="c2")
    return made


def started_volume(client, admin, cluster: str, name: str, bricks: list[str], **kw) -> dict:
    r = admin.post(f"/clusters/{cluster}/volumes", {"name": name, "bricks": bricks, **kw})
    assert r.status_code == 202, r.text
    vol = r.json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    assert admin.get(f"/clusters/{cluster}/volumes/{name}").json()["state"] == "Started"
    return vol


def two_clusters(client, admin, nodes) -> tuple[dict, dict]:
    """mv: replica 3 on n1-n3 of c1; rv: distribute on r1, r2 of c2; every node Online."""
    remote_cluster(client, admin)
    mv = started_volume(client, admin, "c1", "mv", ["n1:/e/m1", "n2:/e/m2", "n3:/e/m3"], replica=3)
    rv = started_volume(client, admin, "c2", "rv", ["r1:/r/s1", "r2:/r/s2"])
    online(client)
    return mv, rv


def answer(client, kind: str, ok: bool = True, data: dict | None = None, error: dict | None = None) -> int:
    """Play the agents' answers to every active task of `kind`."""
    with Session(client.app.state.engine) as s:
        active = s.exec(select(Task).where(Task.kind == kind, Task.phase.in_(["queued", "running"]))).all()
        for t in active:
            body = data if data is not None else ({"public_key": PUBLIC_KEY} if kind == "GEOREP_KEYGEN" else {})
            reconcile.apply_result(s, TaskResult(task_id=t.id, node_id=t.node_id, ok=ok, data=body, error=error))
        return len(active)


def active_tasks(client, kind: str | None = None) -> list[Task]:
    with Session(client.app.state.engine) as s:
        q = select(Task).where(Task.phase.in_(["queued", "running"]))
        if kind:
            q = q.where(Task.kind == kind)
        return list(s.exec(q).all())


def create(admin, **kw):
    body = {"master_volume": "mv", "remote_volume": "rv", "remote_cluster": "c2", **kw}
    return admin.post(GEO, body)


def settle_master_options(client, admin) -> None:
    """The master volume's option change (changelog, marker) applied by its bricks."""
    vol = admin.get("/clusters/c1/volumes/mv").json()
    finish_all(client, vol["id"])


def started_session(client, admin) -> dict:
    r = create(admin)
    assert r.status_code == 202, r.text
    answer(client, "GEOREP_KEYGEN")
    answer(client, "GEOREP_PREPARE_REMOTE")
    answer(client, "GEOREP_START")
    settle_master_options(client, admin)
    geo = admin.get(f"{GEO}/{r.json()['id']}").json()
    assert geo["state"] == "Started", geo
    return geo
