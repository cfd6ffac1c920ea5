"""Beat's health check reads only the volumes and devices that may hold a condition
(health_alerts.candidate_volumes): what it finds is what a scan of every volume and device finds."""
from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.models import Brick, Cluster, Device, Node, Volume
from controlplane.services import health_alerts
from tests.api.test_health_alerts import LIMITS, GiB, beat, started_volume
from tests.api.volume_helpers import create, finish_all


def everything(session: Session, limits: health_alerts.Thresholds) -> dict:
    """The straightforward computation: every volume with every brick, every Ready device."""
    holding: dict = {}
    names = dict(session.exec(select(Cluster.id, Cluster.name)).all())
    nodes = {n.id: n for n in session.exec(select(Node))}
    states = {n.id: n.state for n in nodes.values()}
    bricks: dict[str, list[Brick]] = {}
    for b in session.exec(select(Brick).order_by(Brick.volume_id, Brick.idx)):
        bricks.setdefault(b.volume_id, []).append(b)
    for v in session.exec(select(Volume)):
        health_alerts._volume_conditions(v, names[v.cluster_id], bricks.get(v.id, []), nodes, states, limits, holding)
    for d in session.exec(select(Device).where(Device.state == "Ready", Device.size_bytes > 0)):
        used = 100.0 * (d.size_bytes - d.free_bytes) / d.size_bytes
        if used >= limits.full_percent:
            where = f"{nodes[d.node_id].name}:{d.path}"
            holding[(d.cluster_id, f"device_full:{d.id}")] = (
                "device_full", "warning", f"device {where} is {used:.0f}% full ({d.free_bytes} bytes free): "
                "free space on it or add devices (`kadalu device add`)", d.node_id, None)
    return holding


def compare(client, limits=LIMITS) -> set[str]:
    with Session(client.app.state.engine) as s:
        found, expected = health_alerts.conditions(s, limits), everything(s, limits)
    assert found == expected
    return {key.split(":")[0] for _, key in found}


def test_the_health_check_finds_what_a_scan_of_everything_finds(client, admin, nodes):
    started_volume(client, admin)
    v2 = create(admin, "v2", ["n2:/e/c2", "n3:/e/c3", "n4:/e/c4"], replica=3).json()
    finish_all(client, v2["id"])
    finish_all(client, v2["id"])
    stopped = create(admin, "v3", ["n1:/e/s1", "n2:/e/s2", "n4:/e/s4"], replica=3, start=False).json()
    finish_all(client, stopped["id"])
    for n in ("n1", "n2", "n3", "n4"):
        beat(client, n)
    assert compare(client) == set(), "all Up, nothing full"
    beat(client, "n2", {"/e/b2": (False, 100 * GiB, 50 * GiB, 0), "/e/s2": (False, 100 * GiB, 50 * GiB, 0)})
    beat(client, "n4", {"/e/c4": (True, 100 * GiB, 10 * GiB, 0)})  # exactly at the 90% threshold
    beat(client, "n1", {"/e/b1": (True, 1000, 101, 0)}, device_free=5 * GiB)  # 89.9%: just below; the device 95% full
    assert compare(client) == {"brick_down", "volume_degraded", "volume_full", "device_full"}
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).where(Node.name == "n3").values(state="Unreachable"))
        s.commit()
    assert compare(client) == {"brick_down", "volume_down", "volume_degraded", "volume_full", "device_full"}
    assert compare(client, health_alerts.Thresholds(full_percent=89.9)) >= {"volume_full"}
    beat(client, "n2")
    beat(client, "n3")
    beat(client, "n4")
    assert compare(client) == {"device_full"}
