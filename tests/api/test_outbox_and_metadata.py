"""Dispatch after commit, and one metadata version per transaction (controlplane/services/outbox.py,
metadata.py): what agents are sent and what they may download always matches what was committed."""
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from contracts import metadata_delta
from contracts.messages import TaskMessage, TaskResult
from controlplane.models import Cluster, MetadataChange, MetadataSnapshot, Node, Task
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


def _cid(s: Session) -> str:
    return s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()


@pytest.mark.parametrize("keep", [1, 3])
def test_compaction_keeps_one_snapshot_and_the_last_changes(client, admin, nodes, keep):
    engine = client.app.state.engine
    with Session(engine) as s:
        cid = _cid(s)
    for _ in range(6):
        with Session(engine) as s:
            outbox.configure(s, None, keep_versions=keep)
            metadata.changed(s, cid, cluster=True)
            metadata.changed(s, cid, cluster=True)  # twice in one transaction: one version
            s.commit()
    with Session(engine) as s:
        assert metadata.compact(s, cid, keep=keep, every=1000) is None  # not enough changes yet
        assert metadata.compact(s, cid, keep=keep, every=1) == version(client)
        snaps = s.exec(select(MetadataSnapshot.version).where(MetadataSnapshot.cluster_id == cid)).all()
        logged = s.exec(select(MetadataChange.version).where(MetadataChange.cluster_id == cid)
                        .order_by(MetadataChange.version)).all()
        assert snaps == [version(client)]
        assert logged == list(range(version(client) - keep + 1, version(client) + 1))
        cluster = s.get(Cluster, cid)
        assert metadata.current(s, cid).content == metadata.build_content(s, cluster)
        # as changes commit, the log below both the snapshot and the last `keep` versions is pruned
        # (the changes after the snapshot stay: the complete copy is the snapshot plus them)
        snapshot = version(client)
        for _ in range(keep + 2):
            outbox.configure(s, None, keep_versions=keep)
            metadata.changed(s, cid, cluster=True)
            s.commit()
        logged = s.exec(select(MetadataChange.version).where(MetadataChange.cluster_id == cid)).all()
        assert sorted(logged) == list(range(snapshot + 1, version(client) + 1))


def test_a_change_names_only_what_changed_and_the_log_rebuilds_the_database(client, admin, nodes):
    """Every entry a change carries is read at commit; applying the log to any earlier copy gives
    exactly what the database says now (a service that forgot a mark would break this)."""
    engine = client.app.state.engine
    with Session(engine) as s:
        cid = _cid(s)
        start = metadata.current(s, cid)
    other = create(admin, "gvol0", R3, replica=3).json()
    finish_all(client, other["id"])
    finish_all(client, other["id"])  # Started
    vol = create(admin, "gvol1", [b + "x" for b in R3], replica=3).json()
    with Session(engine) as s:
        (last,) = metadata.changes_since(s, cid, version(client) - 1)
    assert set(last) == {"version", "volumes"} and list(last["volumes"]) == [vol["id"]]  # not gvol0, no nodes
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    admin.post("/clusters/c1/nodes/n1/devices", {"path": "/exports/y"})
    assert admin.post("/clusters/c1/volumes/gvol0/stop", {}).status_code == 202
    finish_all(client, other["id"])
    assert admin.delete("/clusters/c1/volumes/gvol0").status_code == 202
    finish_all(client, other["id"])
    with Session(engine) as s:
        now = metadata.build_content(s, s.get(Cluster, cid))
        assert [v["spec"]["name"] for v in now["volumes"]] == ["gvol1"]
        assert metadata.current(s, cid) == metadata.Copy(version(client), now)
        changes = metadata.changes_since(s, cid, start.version)
        assert metadata_delta.apply(start.content, start.version, changes) == (version(client), now)
        assert metadata.compact(s, cid, every=1) == version(client)
        assert metadata.current(s, cid) == metadata.Copy(version(client), now)


def test_changed_must_say_what_changed(client, admin, nodes):
    with Session(client.app.state.engine) as s, pytest.raises(ValueError, match="needs what changed"):
        metadata.changed(s, _cid(s))
