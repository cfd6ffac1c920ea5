"""Alerts from cluster health: raised once per condition while it holds, resolved when it clears,
and what /metrics shows of the same state (capacity, bricks, devices, open alerts)."""
import time

from sqlmodel import Session, select

from contracts.messages import BrickReport, DeviceUsage, Heartbeat
from controlplane.models import Alert, Brick, Device, Node
from controlplane.services import alerts, health, health_alerts
from tests.api.volume_helpers import R3, create, finish_all
from tests.prom_samples import samples

LIMITS = health_alerts.Thresholds(full_percent=90.0, quiet_seconds=3600.0)
GiB = 1 << 30


def beat(client, node_name: str, bricks: dict[str, tuple[bool, int, int, int]] | None = None,
         device_free: int | None = None) -> None:
    """A heartbeat from `node_name`: brick path -> (online, size, free, heal pending)."""
    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == node_name)).one()
        reports = []
        for b in s.exec(select(Brick).where(Brick.node_id == node.id)):
            online, size, free, heal = (bricks or {}).get(b.path, (True, 100 * GiB, 50 * GiB, 0))
            reports.append(BrickReport(brick_id=b.id, volume_id=b.volume_id, pid=4242, online=online, size_bytes=size,
                                       free_bytes=free, heal_pending=heal))
        devices = []
        if device_free is not None:
            devices = [DeviceUsage(device_id=d.id, path=d.path, size_bytes=100 * GiB, free_bytes=device_free)
                       for d in s.exec(select(Device).where(Device.node_id == node.id))]
        health.apply_heartbeat(s, node, Heartbeat(node_id=node.id, sent_at=time.time(), bricks=reports, devices=devices))


def evaluate(client) -> list[tuple[str, str]]:
    with Session(client.app.state.engine) as s:
        health_alerts.evaluate(s, LIMITS)
        rows = s.exec(select(Alert).where(Alert.state == "firing", Alert.severity != "info")).all()
        return sorted((a.kind, a.message.split(":")[0]) for a in rows)


def started_volume(client, admin) -> dict:
    vol = create(admin, "v1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    for n in ("n1", "n2", "n3", "n4"):
        beat(client, n)
    return vol


def test_a_brick_down_raises_one_alert_per_condition_and_clears_when_it_returns(client, admin, nodes):
    started_volume(client, admin)
    assert evaluate(client) == []
    beat(client, "n2", {"/e/b2": (False, 100 * GiB, 50 * GiB, 0)})
    first = evaluate(client)
    assert first == [("brick_down", "brick n2"), ("volume_degraded", "volume v1 is Degraded")]
    assert evaluate(client) == first  # evaluated again: the same two alerts, not new ones
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Alert).where(Alert.kind == "brick_down")).one().count == 2
    beat(client, "n2")
    assert evaluate(client) == []
    with Session(client.app.state.engine) as s:
        done = s.exec(select(Alert).where(Alert.kind == "brick_down")).one()
        assert done.state == "resolved" and done.resolved_at is not None and done.open_key is None
    # the API lists both, the resolved one with its state
    listed = admin.get("/clusters/c1/alerts").json()["data"]
    assert {(a["kind"], a["state"]) for a in listed if a["kind"] in ("brick_down", "volume_degraded")} == {
        ("brick_down", "resolved"), ("volume_degraded", "resolved")}


def test_a_set_losing_quorum_is_down_and_critical(client, admin, nodes):
    started_volume(client, admin)
    down = (False, 100 * GiB, 50 * GiB, 0)
    beat(client, "n1", {"/e/b1": down})
    beat(client, "n2", {"/e/b2": down})
    kinds = {k for k, _ in evaluate(client)}
    assert kinds == {"brick_down", "volume_down"}
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Alert).where(Alert.kind == "volume_down")).one().severity == "critical"


def test_a_full_device_and_a_full_volume_raise_alerts(client, admin, nodes):
    started_volume(client, admin)
    nearly_full = (True, 100 * GiB, 5 * GiB, 0)
    for n, path in (("n1", "/e/b1"), ("n2", "/e/b2"), ("n3", "/e/b3")):
        beat(client, n, {path: nearly_full}, device_free=5 * GiB)
    found = evaluate(client)
    assert ("volume_full", "volume v1 is 95% full (5368709120 bytes free)") in found
    assert [k for k, _ in found].count("device_full") == 3
    for n in ("n1", "n2", "n3"):
        beat(client, n, device_free=50 * GiB)
    assert evaluate(client) == []


def test_an_unreachable_node_alert_resolves_when_its_heartbeat_returns(client, admin, nodes):
    beat(client, "n1")
    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == "n1")).one()
        node.last_heartbeat_at = node.last_heartbeat_at.replace(year=2000)
        s.add(node)
        s.commit()
        health.mark_unreachable(s, 10)
        health.mark_unreachable(s, 10)  # still Unreachable: no second alert
        rows = s.exec(select(Alert).where(Alert.kind == "node_unreachable", Alert.node_id == node.id)).all()
        assert [(a.state, a.severity) for a in rows] == [("firing", "critical")]
    beat(client, "n1")
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(Alert).where(Alert.kind == "node_unreachable", Alert.node_id == node.id)).all()
        assert [a.state for a in rows] == ["resolved"]


def test_metrics_show_capacity_bricks_devices_and_open_alerts(client, admin, nodes, settings):
    started_volume(client, admin)
    beat(client, "n2", {"/e/b2": (False, 100 * GiB, 50 * GiB, 7)})
    beat(client, "n1", {"/e/b1": (True, 80 * GiB, 30 * GiB, 0)}, device_free=40 * GiB)
    evaluate(client)
    got = samples(client.get("/metrics", headers=admin.headers).text)
    v1 = {"cluster": "c1", "volume": "v1"}
    # a replica set holds what its smallest brick holds, and has what its fullest brick has free
    assert got[("kadalu_volume_capacity_bytes", frozenset(v1.items()))] == 80 * GiB
    assert got[("kadalu_volume_free_bytes", frozenset(v1.items()))] == 30 * GiB
    assert got[("kadalu_volume_used_bytes", frozenset(v1.items()))] == 50 * GiB
    assert got[("kadalu_volume_health", frozenset({**v1, "health": "Degraded"}.items()))] == 1
    b2 = {**v1, "node": "n2", "brick": "/e/b2"}
    assert got[("kadalu_brick_online", frozenset(b2.items()))] == 0
    assert got[("kadalu_brick_heal_pending", frozenset(b2.items()))] == 7
    assert got[("kadalu_device_free_bytes", frozenset({"cluster": "c1", "node": "n1", "device": "/e"}.items()))] == 40 * GiB
    assert got[("kadalu_alerts_firing", frozenset({"cluster": "c1", "kind": "brick_down", "severity": "warning"}.items()))] == 1
    assert got[("kadalu_tasks_finished_window", frozenset({"kind": "START_BRICK", "phase": "done"}.items()))] == 3
    assert ("kadalu_task_duration_window_seconds", frozenset({"kind": "START_BRICK", "quantile": "0.5"}.items())) in got


def test_event_alerts_resolve_after_the_quiet_time_and_repeats_count_once(client, admin, nodes):
    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == "n1")).one()
        for _ in range(3):
            alerts.record(s, node.cluster_id, "task_failed", "START_BRICK on node n1 failed: ENOSPC", node_id=node.id)
        s.commit()
        (row,) = s.exec(select(Alert).where(Alert.kind == "task_failed")).all()
        assert row.count == 3 and row.state == "firing"
        health_alerts.evaluate(s, LIMITS)
        s.refresh(row)
        assert row.state == "firing"  # seen just now
        health_alerts.evaluate(s, health_alerts.Thresholds(quiet_seconds=0.001))
        s.refresh(row)
        assert row.state == "resolved"
