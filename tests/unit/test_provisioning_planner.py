"""The brick planner is pure: candidates in, plan (or a PlacementError saying why) out."""
import random
from collections import Counter

import pytest

from contracts.sizes import GiB, MiB, TiB
from controlplane.services.provisioning_plan import DeviceCandidate, PlacementError, Plan
from controlplane.services.provisioning_planner import plan_volume


def dev(node: str, free_gib: float, zone: str | None = None, path: str = "/data/d1", reserved_gib: float = 0,
        device_id: str | None = None) -> DeviceCandidate:
    return DeviceCandidate(
        device_id=device_id or f"{node}:{path}", node_id=f"id-{node}", node_name=node, zone=zone, path=path,
        free_bytes=int(free_gib * GiB), reserved_bytes=int(reserved_gib * GiB),
    )


def check_invariants(plan: Plan, devices: list[DeviceCandidate], strict_zones: bool = False) -> None:
    by_id = {d.device_id: d for d in devices}
    assert len(plan.bricks) == plan.set_size * plan.set_count
    for device_id, total in plan.reservations().items():
        assert total <= by_id[device_id].usable_bytes
    for s in range(plan.set_count):
        members = [b for b in plan.bricks if b.set_index == s]
        assert len(members) == plan.set_size
        assert len({b.node_id for b in members}) == plan.set_size
        if strict_zones:
            assert len({by_id[b.device_id].zone for b in members}) == plan.set_size
    assert len({(b.node_id, b.path) for b in plan.bricks}) == len(plan.bricks)


# --------------------------------------------------------------------------- replicate


def test_replica3_on_three_nodes():
    devices = [dev("node1", 200), dev("node2", 200), dev("node3", 200)]
    plan = plan_volume("gvol5", 100 * GiB, 3, False, devices)
    assert (plan.set_count, plan.set_size, plan.brick_size, plan.arbiter_size) == (1, 3, 100 * GiB, None)
    assert [b.node_name for b in plan.bricks] == ["node1", "node2", "node3"]
    assert [b.path for b in plan.bricks] == [f"/data/d1/gvol5-brick-0-{i}" for i in range(3)]
    assert plan.total_bytes == 300 * GiB
    assert plan.reservations() == {d.device_id: 100 * GiB for d in devices}
    check_invariants(plan, devices)


def test_prefers_node_with_most_usable_space():
    devices = [dev("node1", 150), dev("node2", 500), dev("node3", 300), dev("node4", 400)]
    plan = plan_volume("v", 100 * GiB, 3, False, devices)
    assert sorted(b.node_name for b in plan.bricks) == ["node2", "node3", "node4"]


def test_brick_directory_under_device_path():
    devices = [dev("n1", 10, path="/exports/sdb/"), dev("n2", 10, path="/exports/sdc"), dev("n3", 10, path="/")]
    plan = plan_volume("gv", 5 * GiB, 3, False, devices)
    assert {b.path for b in plan.bricks} == {"/exports/sdb/gv-brick-0-0", "/exports/sdc/gv-brick-0-1",
                                             "/gv-brick-0-2"}
    assert all("//" not in b.path for b in plan.bricks)


def test_distribute_count_2_replica3_on_six_nodes_spreads():
    devices = [dev(f"node{i}", 100) for i in range(1, 7)]
    plan = plan_volume("v", 100 * GiB, 3, False, devices, distribute_count=2)
    assert (plan.set_count, plan.brick_size) == (2, 50 * GiB)
    assert Counter(b.node_name for b in plan.bricks) == {f"node{i}": 1 for i in range(1, 7)}
    assert [b.set_index for b in plan.bricks] == [0, 0, 0, 1, 1, 1]
    assert {b.path.rsplit("/", 1)[1] for b in plan.bricks} == {
        "v-brick-0-0", "v-brick-0-1", "v-brick-0-2", "v-brick-1-0", "v-brick-1-1", "v-brick-1-2"}
    check_invariants(plan, devices)


def test_several_sets_on_three_nodes_use_distinct_devices():
    devices = [dev(f"node{i}", 60, path=p) for i in range(1, 4) for p in ("/d/a", "/d/b")]
    plan = plan_volume("v", 100 * GiB, 3, False, devices)
    # one set of 100 GiB does not fit a 60 GiB device: split into 2 sets of 50 GiB
    assert (plan.set_count, plan.brick_size) == (2, 50 * GiB)
    assert any("split into 2 sets" in n for n in plan.notes)
    assert len(plan.reservations()) == 6
    check_invariants(plan, devices)


def test_max_brick_size_sets_the_number_of_sets():
    devices = [dev(f"node{i}", 20 * 1024) for i in range(1, 4)]
    plan = plan_volume("v", 10 * TiB, 3, False, devices)
    assert plan.set_count == 3  # 4 TiB max brick
    assert plan.brick_size == -(-10 * TiB // 3)
    check_invariants(plan, devices)


def test_distribute_spreads_over_nodes():
    devices = [dev("n1", 100), dev("n2", 100), dev("n3", 100)]
    plan = plan_volume("v", 30 * GiB, 1, False, devices, distribute_count=3)
    assert sorted(b.node_name for b in plan.bricks) == ["n1", "n2", "n3"]
    assert plan.brick_size == 10 * GiB


def test_arbiter_brick_is_small_and_last():
    devices = [dev("n1", 200), dev("n2", 200), dev("n3", 10)]
    plan = plan_volume("v", 160 * GiB, 3, True, devices)
    assert plan.brick_size == 160 * GiB
    assert plan.arbiter_size == 10 * GiB  # 1/16 of the data brick
    assert [b.arbiter for b in plan.bricks] == [False, False, True]
    assert plan.bricks[2].node_name == "n3"
    assert plan.bricks[2].size_bytes == 10 * GiB
    check_invariants(plan, devices)


def test_arbiter_size_floor_and_override():
    devices = [dev("n1", 200), dev("n2", 200), dev("n3", 200)]
    assert plan_volume("v", 4 * GiB, 3, True, devices).arbiter_size == GiB
    assert plan_volume("v", 4 * GiB, 3, True, devices, arbiter_bytes=512 * MiB).arbiter_size == 512 * MiB


# --------------------------------------------------------------------------- disperse


@pytest.mark.parametrize("size_gib, sets, brick", [
    (100, None, 50 * GiB),
    (100, 2, 25 * GiB),
    (3, None, -(-3 * GiB // 2)),
])
def test_disperse_3_redundancy_1(size_gib, sets, brick):
    devices = [dev(f"n{i}", 100) for i in range(1, 5)]
    plan = plan_volume("v", size_gib * GiB, 3, False, devices, redundancy=1, distribute_count=sets)
    assert plan.brick_size == brick
    assert plan.set_size == 3 and plan.redundancy == 1
    assert plan.total_bytes == brick * 3 * plan.set_count
    check_invariants(plan, devices)


def test_disperse_6_redundancy_2():
    devices = [dev(f"n{i}", 100) for i in range(1, 7)]
    plan = plan_volume("v", 100 * GiB, 6, False, devices, redundancy=2)
    assert plan.brick_size == 25 * GiB


# --------------------------------------------------------------------------- zones


def test_replica3_over_two_zones_spans_both_in_every_set():
    devices = [dev("n1", 100, "a"), dev("n2", 100, "a"), dev("n3", 100, "b"), dev("n4", 100, "b")]
    plan = plan_volume("v", 10 * GiB, 3, False, devices, distribute_count=2)
    check_invariants(plan, devices)
    by_id = {d.device_id: d for d in devices}
    for s in range(plan.set_count):
        zones = Counter(by_id[b.device_id].zone for b in plan.bricks if b.set_index == s)
        assert sorted(zones.values()) == [1, 2]  # both zones, never all three bricks in one
    assert any("each set spans every zone" in n for n in plan.notes)


def test_zone_constraint_failure_when_a_zone_lacks_room():
    devices = [dev("n1", 100, "a"), dev("n2", 100, "a"), dev("n3", 1, "b"), dev("n4", 100, "a")]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 10 * GiB, 3, False, devices)
    assert e.value.status == 409 and "zone" in str(e.value)


def test_replica2_sets_cross_zones():
    devices = [dev("n1", 100, "a"), dev("n2", 100, "a"), dev("n3", 100, "b"), dev("n4", 100, "b")]
    plan = plan_volume("v", 20 * GiB, 2, False, devices, distribute_count=2)
    check_invariants(plan, devices, strict_zones=True)
    assert Counter(b.node_name for b in plan.bricks) == {"n1": 1, "n2": 1, "n3": 1, "n4": 1}


def test_zone_strict_even_when_space_prefers_same_zone():
    # n1 and n2 (zone a) have the most space, but a set may not use both
    devices = [dev("n1", 500, "a"), dev("n2", 400, "a"), dev("n3", 50, "b")]
    plan = plan_volume("v", 20 * GiB, 2, False, devices)
    assert {b.node_name for b in plan.bricks} == {"n1", "n3"}


def test_zone_space_failure_names_zones():
    devices = [dev("n1", 100, "a"), dev("n2", 100, "b"), dev("n3", 5, "c"), dev("n4", 100, "a")]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 20 * GiB, 3, False, devices)
    text = str(e.value)
    assert "distinct zones" in text and "a: n1, n4; b: n2" in text
    assert "another zone" in e.value.hint


def test_partial_zone_labels_are_a_preference():
    devices = [dev("n1", 100, "a"), dev("n2", 100, "a"), dev("n3", 100)]
    plan = plan_volume("v", 10 * GiB, 2, False, devices)
    assert {b.node_name for b in plan.bricks} in ({"n1", "n3"}, {"n2", "n3"})
    assert any("n3 carry no zone label" in n for n in plan.notes)


# --------------------------------------------------------------------------- failures


def test_not_enough_nodes():
    devices = [dev("node1", 100), dev("node2", 100, path="/d/a"), dev("node2", 100, path="/d/b")]
    with pytest.raises(PlacementError) as e:
        plan_volume("gvol5", 10 * GiB, 3, False, devices)
    assert e.value.reasons == [
        "need 3 nodes (the bricks of a replica 3 set go on distinct nodes), found 2 with registered devices "
        "(node1, node2)"]
    assert "kadalu device add" in e.value.hint


def test_no_devices():
    with pytest.raises(PlacementError, match="no devices are registered"):
        plan_volume("v", 10 * GiB, 3, False, [])


def test_not_enough_space_on_n_nodes():
    devices = [dev("node1", 40), dev("node2", 50), dev("node3", 10)]
    with pytest.raises(PlacementError) as e:
        plan_volume("gvol5", 100 * GiB, 3, False, devices, distribute_count=3)
    err = e.value
    assert err.summary == "cannot place volume gvol5 (replica 3, 100.0 GiB as 3 sets of 33.3 GiB bricks)"
    assert err.reasons[0] == (
        "need 3 nodes with >= 33.4 GiB free on one device each, found 2 (node2 50.0 GiB, node1 40.0 GiB); "
        "too little on node3 10.0 GiB")
    assert "on another node (`kadalu device add`)" in err.hint


def test_no_split_attempts_when_nodes_lack_space():
    devices = [dev("node1", 400), dev("node2", 400), dev("node3", 30)]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 100 * GiB, 3, False, devices)
    assert e.value.reasons == ["need 3 nodes with >= 100.0 GiB free on one device each, found 2 "
                               "(node1 400.0 GiB, node2 400.0 GiB); too little on node3 30.0 GiB"]


def test_auto_split_reports_first_failure_and_attempts():
    # node3 has 120 GiB usable but in 40 GiB pieces (20 GiB of each device is already reserved):
    # 2 sets of 50 GiB and 4 of 25 GiB do not fit it, 8 sets of 12.5 GiB do
    devices = [dev("node1", 400), dev("node2", 400)] + [
        dev("node3", 60, path=p, reserved_gib=20) for p in ("/d/a", "/d/b", "/d/c")]
    plan = plan_volume("v", 100 * GiB, 3, False, devices)
    assert (plan.set_count, plan.brick_size) == (8, 100 * GiB // 8)
    assert Counter(b.device_id for b in plan.bricks if b.node_name == "node3") == {
        "node3:/d/a": 3, "node3:/d/b": 3, "node3:/d/c": 2}
    check_invariants(plan, devices)
    devices[-1] = dev("node3", 20, path="/d/c")
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 100 * GiB, 3, False, devices)
    assert "need 3 nodes with >= 100.0 GiB" in e.value.reasons[0]
    assert e.value.reasons[-1] == "smaller bricks do not fit either (tried up to 64 sets of 1.6 GiB)"


def test_later_set_does_not_fit():
    devices = [dev("n1", 60), dev("n2", 60), dev("n3", 60)]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 100 * GiB, 3, False, devices, distribute_count=2)
    assert e.value.reasons[0] == "1 of 2 sets fit, set 1 does not fit in the space left"
    assert "50.0 GiB left free on one device each, found 0" in e.value.reasons[1]


def test_arbiter_third_node_too_small():
    devices = [dev("n1", 200), dev("n2", 200), dev("n3", 1)]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 160 * GiB, 3, True, devices, distribute_count=1)
    assert "third node with >= 10.0 GiB free on one device for the arbiter brick" in e.value.reasons[0]


def test_reserved_space_is_respected():
    devices = [dev("n1", 100, reserved_gib=90), dev("n2", 100), dev("n3", 100)]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 20 * GiB, 3, False, devices, distribute_count=1)
    assert "n1 10.0 GiB (90.0 GiB of 100.0 GiB already reserved)" in e.value.reasons[0]
    # with a fourth node the reserved device is skipped
    plan = plan_volume("v", 20 * GiB, 3, False, devices + [dev("n4", 30)])
    assert "n1" not in {b.node_name for b in plan.bricks}


def test_over_reserved_device_counts_as_empty():
    d = dev("n1", 10, reserved_gib=50)
    assert d.usable_bytes == 0


def test_never_over_commits_a_device():
    # one device per node, many distribute bricks: the sum per device stays within usable space
    # (62 GiB in total, but only 5 bricks of 10 GiB fit: 2 + 2 + 1)
    devices = [dev("n1", 25), dev("n2", 25), dev("n3", 12)]
    plan = plan_volume("v", 50 * GiB, 1, False, devices, distribute_count=5)
    check_invariants(plan, devices)
    assert Counter(b.node_name for b in plan.bricks) == {"n1": 2, "n2": 2, "n3": 1}
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 60 * GiB, 1, False, devices, distribute_count=6)
    assert e.value.reasons[0] == "5 of 6 sets fit, set 5 does not fit in the space left"
    assert e.value.reasons[1] == (
        "need 1 node with >= 10.0 GiB left free on one device, found 0; too little on n1 5.0 GiB, n2 5.0 GiB, "
        "n3 2.0 GiB")


def test_size_below_min_brick():
    devices = [dev("n1", 100), dev("n2", 100), dev("n3", 100)]
    with pytest.raises(PlacementError) as e:
        plan_volume("v", 512 * MiB, 3, False, devices)
    assert e.value.reasons == ["each brick would be 512.0 MiB, below the minimum brick size of 1.0 GiB"]
    assert e.value.hint == "ask for at least 1.0 GiB"
    with pytest.raises(PlacementError, match="ask for at least 4.0 GiB or fewer sets"):
        plan_volume("v", 3 * GiB, 3, False, devices, distribute_count=4)


@pytest.mark.parametrize("kwargs", [
    dict(set_size=2, arbiter=True),
    dict(set_size=3, arbiter=False, redundancy=2),
    dict(set_size=3, arbiter=True, redundancy=1),
    dict(set_size=0, arbiter=False),
    dict(set_size=3, arbiter=False, distribute_count=0),
])
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        plan_volume("v", 10 * GiB, devices=[dev("n1", 100)], **kwargs)


def test_bad_volume_name_and_duplicate_devices():
    with pytest.raises(ValueError):
        plan_volume("a/b", GiB, 1, False, [dev("n1", 10)])
    with pytest.raises(ValueError, match="listed twice"):
        plan_volume("v", GiB, 1, False, [dev("n1", 10), dev("n1", 10)])


# --------------------------------------------------------------------------- determinism


def test_deterministic_regardless_of_input_order():
    devices = [dev(f"node{i}", 100 + (i % 3) * 10, zone=f"z{i % 3}", path=p)
               for i in range(1, 10) for p in ("/d/a", "/d/b")]
    first = plan_volume("v", 300 * GiB, 3, False, devices, distribute_count=4)
    rng = random.Random(7)
    for _ in range(10):
        shuffled = devices[:]
        rng.shuffle(shuffled)
        assert plan_volume("v", 300 * GiB, 3, False, shuffled, distribute_count=4) == first
    check_invariants(first, devices, strict_zones=True)
    # 4 sets x 3 bricks over 9 nodes: no node takes a second brick before every node has one
    counts = Counter(b.node_name for b in first.bricks)
    assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == 9


def test_describe_for_dry_run():
    devices = [dev("node1", 200), dev("node2", 200), dev("node3", 200)]
    lines = plan_volume("gvol5", 100 * GiB, 3, True, devices).describe()
    assert lines[0].startswith("1 set(s) of 3 brick(s), data bricks of 100.0 GiB, arbiter bricks of 6.2 GiB")
    assert "node3:/data/d1/gvol5-brick-0-2" in lines[3] and "(arbiter)" in lines[3]
