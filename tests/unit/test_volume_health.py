import pytest

from controlplane.models import Brick, Volume
from controlplane.services.volume_health import health


def vol(type_, **kw):
    return Volume(cluster_id="c", name="v", type=type_, state="Started", **kw)


def bricks(online: list[bool]):
    return [Brick(volume_id="v", cluster_id="c", node_id=f"n{i}", idx=i, path=f"/b{i}", port=1, online=up)
            for i, up in enumerate(online)]


ALL_ONLINE = {f"n{i}": "Online" for i in range(12)}


@pytest.mark.parametrize("volume,online,expected", [
    (vol("replicate", replica_count=3), [1, 1, 1], "Up"),
    (vol("replicate", replica_count=3), [1, 0, 1], "Degraded"),
    (vol("replicate", replica_count=3), [0, 0, 1], "Down"),
    (vol("replicate", replica_count=3), [1, 1, 1, 1, 0, 1], "Degraded"),
    (vol("arbiter", replica_count=3, arbiter_count=1), [1, 1, 0], "Degraded"),
    (vol("disperse", disperse_count=3, redundancy_count=1), [1, 0, 1], "Degraded"),
    (vol("disperse", disperse_count=3, redundancy_count=1), [0, 0, 1], "Down"),
    (vol("distribute"), [1, 1], "Up"),
    (vol("distribute"), [1, 0], "Down"),
])
def test_health_follows_set_quorum(volume, online, expected):
    assert health(volume, bricks([bool(x) for x in online]), ALL_ONLINE) == expected


def test_bricks_on_an_unreachable_node_count_as_offline():
    states = {**ALL_ONLINE, "n1": "Unreachable"}
    assert health(vol("replicate", replica_count=3), bricks([True] * 3), states) == "Degraded"


def test_no_health_unless_started():
    v = vol("replicate", replica_count=3)
    v.state = "Stopped"
    assert health(v, bricks([True] * 3), ALL_ONLINE) is None
