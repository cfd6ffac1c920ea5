"""`plan_sets`, the planner of `volume expand` without bricks: sets of a fixed brick size, numbered
after the volume's, preferring the nodes that hold fewest of its bricks."""
import pytest

from contracts.sizes import GiB
from controlplane.services.provisioning_plan import PlacementError
from controlplane.services.provisioning_planner import plan_sets
from tests.unit.test_provisioning_planner import dev


def test_new_sets_continue_the_numbering_and_prefer_the_emptiest_nodes():
    devices = [dev(f"node{i}", 500) for i in range(1, 7)]
    existing = {f"id-node{i}": 1 for i in (1, 2, 3)}
    plan = plan_sets("gv", 1, 3, 10 * GiB, devices, first_set=1, existing=existing)
    assert [(b.node_name, b.path, b.size_bytes) for b in plan.bricks] == [
        (f"node{i}", f"/data/d1/gv-brick-1-{i - 4}", 10 * GiB) for i in (4, 5, 6)]
    assert plan.reservations() == {f"node{i}:/data/d1": 10 * GiB for i in (4, 5, 6)}


def test_without_existing_bricks_the_roomiest_nodes_win():
    devices = [dev("a", 100), dev("b", 300), dev("c", 300), dev("d", 300)]
    assert {b.node_name for b in plan_sets("gv", 1, 3, 10 * GiB, devices).bricks} == {"b", "c", "d"}


def test_arbiter_sets_get_the_arbiter_size_given_or_estimated():
    devices = [dev(f"n{i}", 100) for i in range(3)]
    given = plan_sets("gv", 1, 3, 32 * GiB, devices, arbiter=True, arbiter_bytes=3 * GiB)
    assert [b.size_bytes for b in given.bricks] == [32 * GiB, 32 * GiB, 3 * GiB] and given.bricks[2].arbiter
    estimated = plan_sets("gv", 1, 3, 32 * GiB, devices, arbiter=True)
    assert estimated.bricks[2].size_bytes == 2 * GiB


def test_too_few_nodes_and_too_little_space_say_what_would_fix_it():
    with pytest.raises(PlacementError) as few:
        plan_sets("gv", 1, 3, 10 * GiB, [dev("a", 100), dev("b", 100)])
    assert "register a device on 1 more node" in str(few.value)
    with pytest.raises(PlacementError) as full:
        plan_sets("gv", 2, 3, 60 * GiB, [dev(n, 100) for n in "abc"])
    text = str(full.value)
    assert "1 of 2 sets fit" in text and text.endswith("or add fewer sets")


def test_the_brick_limit_counts_the_volume_s_bricks():
    with pytest.raises(PlacementError, match="limit of 1024 bricks"):
        plan_sets("gv", 2, 3, GiB, [dev(n, 100) for n in "abc"], max_bricks=5)


def test_inconsistent_arguments_are_a_caller_bug():
    with pytest.raises(ValueError):
        plan_sets("gv", 0, 3, GiB, [dev(n, 100) for n in "abc"])
    with pytest.raises(ValueError):
        plan_sets("gv", 1, 3, GiB, [dev(n, 100) for n in "abc"], arbiter_bytes=GiB)
