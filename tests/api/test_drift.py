"""Drift: the database compared with agents' drift reports (services.drift), alerts raised and
resolved per condition, `POST /clusters/{c}/verify` with and without repair, and the reports a node
may not make (another node's bricks, another cluster's volumes)."""
import time

import pytest
from sqlmodel import Session, select

from contracts.drift import BrickObserved, DaemonObserved, DeviceObserved, DriftReport, digest_of, volfile_digest
from contracts.messages import TaskResult
from controlplane.models import Alert, Brick, Device, Node, NodeReport, Task, Volume
from controlplane.services import drift, reconcile, volume_specs
from tests.api.test_health_alerts import started_volume
from tests.api.volume_helpers import finish_all, ready_device
from tests.factories import register_node
from volgen import brick_volfile, shd_volfile


def healthy_report(s: Session, node: Node, **changes) -> DriftReport:
    """What an agent reports when its node matches the database; `changes`: brick path -> field values."""
    bricks, daemons = [], []
    for b in s.exec(select(Brick).where(Brick.node_id == node.id)):
        v = s.get(Volume, b.volume_id)
        vspec = volume_specs.spec(s, v)
        bspec = next(x for x in vspec.bricks if x.id == b.id)
        seen = dict(brick_id=b.id, volume_id=v.id, volume_id_xattr=v.id, has_glusterfs_dir=True, pid=4242,
                    port=b.port, listening=True, volfile_sha256=volfile_digest(brick_volfile(vspec, bspec, node.id)))
        seen.update(changes.get(b.path, {}))
        bricks.append(BrickObserved(**seen))
        shd = dict(volume_id=v.id, pid=4343, volfile_sha256=volfile_digest(shd_volfile(vspec)))
        shd.update(changes.get(f"shd:{v.name}", {}))
        daemons.append(DaemonObserved(**shd))
    devices = [DeviceObserved(device_id=d.id, path=d.path, present=True)
               for d in s.exec(select(Device).where(Device.node_id == node.id))]
    report = DriftReport(node_id=node.id, sent_at=time.time(), bricks=bricks, daemons=daemons, devices=devices)
    report.digest = digest_of(report)
    return report


def send(client, node_name: str, **changes) -> bool:
    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == node_name)).one()
        return drift.receive(s, node, healthy_report(s, node, **changes))


def firing(client) -> list[tuple[str, str]]:
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(Alert).where(Alert.state == "firing", Alert.kind.startswith("drift_"))).all()
        return sorted((a.kind, a.key.split(":")[1]) for a in rows)


def node_id(client, name: str) -> str:
    with Session(client.app.state.engine) as s:
        return s.exec(select(Node.id).where(Node.name == name)).one()


@pytest.fixture
def started(client, admin, nodes):
    vol = started_volume(client, admin)
    for n in ("n1", "n2", "n3"):
        assert send(client, n)
    return vol


def test_a_matching_node_raises_nothing_and_each_difference_raises_one_alert_until_it_clears(client, admin, started):
    assert firing(client) == []
    n2 = node_id(client, "n2")
    send(client, "n2", **{"/e/b2": {"pid": None, "port": 0, "listening": False, "volfile_sha256": ""},
                          "shd:v1": {"pid": None}})
    assert firing(client) == [("drift_brick_down", n2), ("drift_shd_down", n2), ("drift_volfile", n2)]
    send(client, "n2", **{"/e/b2": {"pid": None, "port": 0, "listening": False, "volfile_sha256": ""},
                          "shd:v1": {"pid": None}})
    with Session(client.app.state.engine) as s:  # raised again: counted on the open alert, not a new one
        assert s.exec(select(Alert).where(Alert.kind == "drift_brick_down")).one().count == 2
    send(client, "n2")
    assert firing(client) == []


def test_verify_lists_findings_and_repair_sends_one_task_per_brick_or_says_why_not(client, admin, started):
    n1, n3 = node_id(client, "n1"), node_id(client, "n3")
    foreign = "0b6c4c9e-5a0e-4d3e-9a55-0d4f7d1e2a10"
    send(client, "n1", **{"/e/b1": {"volume_id_xattr": "", "pid": None, "port": 0, "listening": False}})
    send(client, "n3", **{"/e/b3": {"volume_id_xattr": foreign}})
    r = admin.post("/clusters/c1/verify", {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["in_sync"] and body["repairs"] == [] and body["refused"] == []
    found = {(f["node"], f["kind"], f["repair"]) for f in body["findings"]}
    assert found == {("n1", "drift_volume_id", "restore_volume_id"), ("n1", "drift_brick_down", "run"),
                     ("n3", "drift_volume_id", "")}
    assert "an id this cluster does not know" in next(f["message"] for f in body["findings"] if f["node"] == "n3")

    repaired = admin.post("/clusters/c1/verify", {"repair": True}).json()
    (sent,) = repaired["repairs"]
    assert (sent["node"], sent["action"], sent["restore_volume_id"]) == ("n1", "run", True)
    (refused,) = repaired["refused"]
    assert refused["node"] == "n3" and "never overwrites a volume id" in refused["reason"]
    with Session(client.app.state.engine) as s:
        task = s.get(Task, sent["task_id"])
        assert task.kind == "REPAIR_BRICK" and task.node_id == n1 and task.operation_id is None
        assert task.spec["restore_volume_id"] is True and task.spec["action"] == "run"
    # asked again while it is queued: the same task, not a second one
    assert admin.post("/clusters/c1/verify", {"repair": True}).json()["repairs"][0]["task_id"] == sent["task_id"]
    with Session(client.app.state.engine) as s:
        reconcile.apply_result(s, TaskResult(task_id=sent["task_id"], node_id=n1, ok=True,
                                             data={"pid": 5151, "port": 1, "done": ["volume_id", "brick_started"]}))
    send(client, "n1")  # the next report shows the repaired brick
    assert firing(client) == [("drift_volume_id", n3)]
    with Session(client.app.state.engine) as s:
        assert s.get(Volume, started["id"]).state == "Started"  # a repair is not a volume operation


def test_a_stopped_volume_with_a_running_brick_is_stopped_by_repair(client, admin, started):
    assert admin.post("/clusters/c1/volumes/v1/stop").status_code == 202
    finish_all(client, started["id"])
    send(client, "n1")  # pid 4242 still runs: behind the control plane's back
    send(client, "n2", **{"/e/b2": {"pid": None, "port": 0, "listening": False}})
    assert [k for k, _ in firing(client)] == ["drift_brick_running"]
    (sent,) = admin.post("/clusters/c1/verify", {"repair": True}).json()["repairs"]
    assert sent["action"] == "stop" and sent["node"] == "n1"


def test_verify_needs_the_maintainer_role_to_repair_and_a_grant_to_read(client, admin, started):
    viewer = admin.make_user("vera", "viewer")
    assert viewer.post("/clusters/c1/verify", {}).status_code == 200
    r = viewer.post("/clusters/c1/verify", {"repair": True})
    assert r.status_code == 403 and "maintainer" in r.json()["detail"]
    stranger = admin.make_user("sam")
    assert stranger.post("/clusters/c1/verify", {}).status_code == 404


def test_unchecked_nodes_are_named_with_the_reason(client, admin, nodes):
    body = admin.post("/clusters/c1/verify", {}).json()
    assert not body["in_sync"]
    assert {n["node"]: n["why_not"] for n in body["nodes"]}["n1"] == "node is Registered"


def test_a_report_claiming_another_nodes_or_another_clusters_bricks_is_refused(client, admin, started):
    other = admin.make_cluster("c2")
    register_node(client, other, "x1", "127.0.2.1")
    ready_device(client, admin, "x1", "/e", cluster="c2")
    with Session(client.app.state.engine) as s:
        n1 = s.exec(select(Node).where(Node.name == "n1")).one()
        n2 = s.exec(select(Node).where(Node.name == "n2")).one()
        x1 = s.exec(select(Node).where(Node.name == "x1")).one()
        before = s.get(NodeReport, n1.id).sent_at
        stolen = healthy_report(s, n2)  # n2's bricks, signed by n1
        stolen.node_id = n1.id
        with pytest.raises(drift.Refused, match="another node"):
            drift.store(s, n1, stolen)
        s.rollback()
        assert not drift.receive(s, n1, stolen)
        mine = healthy_report(s, n1)
        with pytest.raises(drift.Refused, match="another cluster"):
            drift.store(s, x1, mine.model_copy(update={"node_id": x1.id}))
        s.rollback()
        with pytest.raises(drift.Refused, match="names node"):
            drift.store(s, n2, mine)  # a report about n1 signed by n2
        s.rollback()
        assert s.get(NodeReport, n1.id).sent_at == before
    refused = [a for a in admin.get("/clusters/c1/alerts").json()["data"] if a["kind"] == "drift_report_refused"]
    assert len(refused) == 1 and refused[0]["severity"] == "critical"


def test_an_older_report_never_replaces_a_newer_one(client, admin, started):
    with Session(client.app.state.engine) as s:
        n1 = s.exec(select(Node).where(Node.name == "n1")).one()
        newer = healthy_report(s, n1)
        old = newer.model_copy(update={"sent_at": newer.sent_at - 30})
        assert drift.receive(s, n1, newer)
        assert not drift.receive(s, n1, old)
        assert s.get(NodeReport, n1.id).sent_at == newer.sent_at


def test_beat_compares_again_at_most_every_so_often(client, admin, started):
    with Session(client.app.state.engine) as s:
        n2 = s.exec(select(Node).where(Node.name == "n2")).one()
        report = healthy_report(s, n2, **{"/e/b2": {"pid": None, "port": 0, "listening": False}})
        assert drift.store(s, n2, report)  # stored without being compared
        s.commit()
        assert drift.evaluate_all(s, every_seconds=0) == 1
        assert drift.evaluate_all(s) == 0  # compared a moment ago: not again yet
    assert firing(client) == [("drift_brick_down", node_id(client, "n2"))]
