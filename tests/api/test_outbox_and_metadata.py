"""Dispatch after commit, and one metadata version per transaction (controlplane/services/outbox.py,
metadata.py): what agents are sent and what they may download always matches what was committed."""
import re
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from contracts.messages import TaskMessage, TaskResult
from controlplane.models import Cluster, MetadataVersion, Node, Task
from controlplane.services import metadata, outbox, reconcile, redispatch, tasks
from tests.api.volume_helpers import R3, create, finish_all

ROUTES = Path(__file__).resolve().parents[2] / "controlplane" / "api" / "routes"


class Recorder:
    def __init__(self):
        self.sent: list[TaskMessage] = []

    def send(self, message: TaskMessage) -> None:
        self.sent.append(message)


def version(client, cluster="c1") -> int:
    with Session(client.app.state.engine) as s:
        return s.exec(select(Cluster.metadata_version).where(Cluster.name == cluster)).one()


def test_tasks_are_sent_after_the_commit_and_never_after_a_rollback(client, admin, nodes):
    engine = client.app.state.engine
    recorder = Recorder()
    spec = {"device_id": "0d1b7b53-9c1e-4c41-a3a1-6f0c2d5c9e10", "path": "/exports/x", "kind": "directory"}
    with Session(engine) as s:
        outbox.configure(s, recorder)
        node = s.exec(select(Node).where(Node.name == "n1")).one()
        tasks.new_task(s, node, "ADD_DEVICE", spec)
        assert recorder.sent == []  # not before the commit
        s.rollback()
        assert recorder.sent == []
        tid = tasks.new_task(s, node, "ADD_DEVICE", spec | {"device_id": "5c7d7f0e-8d0b-4f5e-9a51-2b7e0f3c1a22"}).id
        s.commit()
    assert [m.task_id for m in recorder.sent] == [tid]
    with Session(engine) as s:
        sent = s.get(Task, tid)
        assert sent.dispatched_at is not None and sent.attempts == 1


def test_a_commit_whose_send_never_happened_is_sent_by_beat(client, admin, nodes):
    """The process died between its commit and the send (here: no sender at all): the task is QUEUED,
    never dispatched, and beat's re-dispatch sends it."""
    engine = client.app.state.engine
    with Session(engine) as s:
        outbox.configure(s, None)
        node = s.exec(select(Node).where(Node.name == "n1")).one()
        node.state = "Online"
        s.add(node)
        tid = tasks.new_task(s, node, "ADD_DEVICE", {"device_id": "7e9a1c36-3d1f-4b8e-8a2c-9f1d0e6b5a44",
                                                    "path": "/exports/y", "kind": "directory"}).id
        s.commit()
    recorder = Recorder()
    with Session(engine) as s:
        assert s.get(Task, tid).dispatched_at is None
        assert redispatch.redispatch(s, recorder, older_than=0.0, message_present=lambda _t: False) >= 1
    assert tid in [m.task_id for m in recorder.sent]


def test_no_route_sends_a_message_itself():
    for path in ROUTES.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"\.send\(|sender", text), f"{path.name} sends: tasks go through the outbox"


def test_one_request_makes_one_metadata_version(client, admin, nodes):
    before = version(client)
    vol = create(admin, "gvol1", R3, replica=3).json()
    assert version(client) == before + 1  # the volume, its bricks and its first step: one version
    finish_all(client, vol["id"])  # three results: the last one settles Created and begins the start
    after_create = version(client)
    assert after_create == before + 2  # only the settling transaction changed what agents act on
    finish_all(client, vol["id"])
    assert version(client) == after_create + 1
    with Session(client.app.state.engine) as s:
        content = metadata.current(s, s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()).content
    assert [(v["spec"]["name"], v["state"]) for v in content["volumes"]] == [("gvol1", "Started")]


def test_device_state_changes_reach_the_metadata(client, admin, nodes):
    before = version(client)
    dev = admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/z"}).json()
    assert version(client) == before + 1
    with Session(client.app.state.engine) as s:
        cid = s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()
        shown = {d["path"]: d["state"] for d in metadata.current(s, cid).content["devices"]}
    assert shown["/exports/z"] == "Adding"
    with Session(client.app.state.engine) as s:
        task = s.get(Task, dev["task"]["id"])
        reconcile.apply_result(s, TaskResult(task_id=task.id, node_id=task.node_id, ok=False))
        shown = {d["path"]: d["state"] for d in metadata.current(s, cid).content["devices"]}
    assert shown["/exports/z"] == "Failed" and version(client) == before + 2


@pytest.mark.parametrize("keep", [1, 3])
def test_only_the_last_versions_are_kept(client, admin, nodes, keep):
    engine = client.app.state.engine
    with Session(engine) as s:
        cid = s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()
    for _ in range(6):
        with Session(engine) as s:
            outbox.configure(s, None, keep_versions=keep)
            metadata.changed(s, cid)
            metadata.changed(s, cid)  # twice in one transaction: one version
            s.commit()
    with Session(engine) as s:
        versions = s.exec(select(MetadataVersion.version).where(MetadataVersion.cluster_id == cid)
                          .order_by(MetadataVersion.version)).all()
        newest = s.exec(select(func.max(MetadataVersion.version)).where(MetadataVersion.cluster_id == cid)).one()
    assert len(versions) == keep and versions[-1] == newest == version(client)
