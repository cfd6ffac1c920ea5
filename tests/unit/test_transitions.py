"""Every state table, arrow by arrow: each listed arrow moves, each other one is refused with a
message, and nothing but a table changes a state word."""
import itertools
from dataclasses import dataclass

import pytest

from contracts.states import (
    REBALANCE_ACTIVE,
    VOLUME_FAILED,
    VOLUME_IN_PROGRESS,
    BrickState,
    DeviceState,
    NodeState,
    RebalanceState,
    VolumeState,
)
from controlplane.services.errors import Conflict
from controlplane.services.transitions import BRICK, DEVICE, NODE, REBALANCE, VOLUME, Table

TABLES = {"volume": (VOLUME, VolumeState), "brick": (BRICK, BrickState), "device": (DEVICE, DeviceState),
          "node": (NODE, NodeState), "rebalance": (REBALANCE, RebalanceState)}


@dataclass
class Row:
    state: str
    name: str = "r1"
    reason: str = ""


def arrows(kind: str):
    table, states = TABLES[kind]
    return [(kind, table, str(a), str(b)) for a, b in itertools.product(states, states)]


@pytest.mark.parametrize("kind,table,src,dst", [a for kind in TABLES for a in arrows(kind)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_arrow_of_every_table(kind: str, table: Table, src: str, dst: str):
    row = Row(src)
    if dst in table.arrows.get(src, frozenset()):
        table.move(row, dst, "why")
        assert row.state == dst and row.reason == "why"
    else:
        with pytest.raises(Conflict) as err:
            table.move(row, dst)
        assert row.state == src and kind in err.value.message and src in err.value.message
        if src in table.in_progress:
            assert "in progress" in err.value.message


@pytest.mark.parametrize("kind", TABLES)
def test_every_state_of_the_enum_has_a_row_and_every_row_a_state(kind):
    table, states = TABLES[kind]
    assert set(table.arrows) == {str(s) for s in states}
    assert all(t in table.arrows for targets in table.arrows.values() for t in targets)


def test_every_volume_request_in_progress_ends_done_or_failed():
    for state in VOLUME_IN_PROGRESS:
        targets = VOLUME.arrows[state]
        assert targets & VOLUME_FAILED and targets - VOLUME_FAILED, state


def test_a_failed_volume_always_has_a_way_forward():
    for state in VOLUME_FAILED:
        assert VOLUME.arrows[state], state


def test_a_failed_expand_is_retried_or_aborted_before_anything_else():
    assert VOLUME.arrows[VolumeState.EXPAND_FAILED] == {VolumeState.EXPANDING, VolumeState.ABORTING_EXPAND}


def test_a_stop_is_always_accepted_by_a_rebalance_row_that_may_run():
    for state in set(RebalanceState) - {RebalanceState.STOPPING}:
        assert REBALANCE.can(state, RebalanceState.STOPPING), state
    assert RebalanceState.STOPPING in REBALANCE_ACTIVE
