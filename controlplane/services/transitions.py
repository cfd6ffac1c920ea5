"""Every state change of every resource goes through the table of its kind and `Table.move`.

A table lists, per state, the states it may go to; `move` refuses any other arrow with a Conflict
that says what is in the way and what to do. Tables are pure data, tested arrow by arrow
(tests/unit/test_transitions.py)."""
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.states import (
    DEVICE_IN_PROGRESS,
    GEOREP_IN_PROGRESS,
    REBALANCE_ACTIVE,
    VOLUME_IN_PROGRESS,
    BrickState,
    DeviceState,
    GeoRepState,
    NodeState,
    RebalanceState,
    VolumeState,
)
from controlplane.db import utcnow
from controlplane.services.errors import Conflict


@dataclass(frozen=True)
class Table:
    kind: str  # what the messages call the resource: "volume", "device", ...
    arrows: Mapping[str, frozenset[str]]
    in_progress: frozenset[str] = frozenset()
    hints: Mapping[str, str] = field(default_factory=dict)  # target state -> what a request needs

    def can(self, current: str, to: str) -> bool:
        return to in self.arrows.get(current, frozenset())

    def check(self, obj: Any, to: str) -> None:
        """Raise Conflict, saying what is in the way, when `obj` cannot go to `to`."""
        current = str(obj.state)
        if not self.can(current, to):
            name = getattr(obj, "name", None) or getattr(obj, "path", None) or getattr(obj, "id", "")
            what = f"{self.kind} {name!r}"
            if current in self.in_progress:
                raise Conflict(f"{what} is {current} (another request is in progress): wait for it to finish, "
                               "then retry")
            hint = self.hints.get(to, "")
            raise Conflict(f"{what} is {current} and cannot go to {to}" + (f": {hint}" if hint else ""))

    def move(self, obj: Any, to: str, reason: str | None = None) -> None:
        """Set `obj.state` to `to` (and `obj.reason`, `obj.updated_at` where the row has them), or
        raise Conflict when the table has no such arrow."""
        self.check(obj, to)
        obj.state = to
        if reason is not None and hasattr(obj, "reason"):
            obj.reason = reason[:8192]
        if hasattr(obj, "updated_at"):
            obj.updated_at = utcnow()


def _arrows(table: Mapping[Any, set[Any]]) -> dict[str, frozenset[str]]:
    return {str(k): frozenset(str(v) for v in vs) for k, vs in table.items()}


V = VolumeState
VOLUME = Table(
    kind="volume",
    arrows=_arrows({
        V.CREATING: {V.CREATED, V.CREATE_FAILED},
        V.CREATED: {V.STARTING, V.DELETING, V.EXPANDING},
        V.CREATE_FAILED: {V.DELETING},
        V.STARTING: {V.STARTED, V.START_FAILED},
        V.STARTED: {V.STARTING, V.STOPPING, V.EXPANDING, V.RECONFIGURING},  # Starting: `start --force`
        V.START_FAILED: {V.STARTING, V.STOPPING, V.DELETING},
        V.STOPPING: {V.STOPPED, V.STOP_FAILED},
        V.STOPPED: {V.STARTING, V.DELETING, V.EXPANDING},
        V.STOP_FAILED: {V.STOPPING, V.STARTING, V.DELETING},
        V.DELETING: {V.DELETED, V.DELETE_FAILED},
        V.DELETE_FAILED: {V.DELETING},
        V.DELETED: set(),
        # expand: create the new bricks (and start them when the volume runs), then back where it was
        V.EXPANDING: {V.CREATED, V.STARTED, V.STOPPED, V.EXPAND_FAILED},
        # a failed expand is retried (Expanding) or aborted (AbortingExpand) before anything else
        V.EXPAND_FAILED: {V.EXPANDING, V.ABORTING_EXPAND},
        V.ABORTING_EXPAND: {V.CREATED, V.STARTED, V.STOPPED, V.EXPAND_FAILED},
        # a brick-side option change: rolling restarts, one brick of every set at a time
        V.RECONFIGURING: {V.STARTED, V.RECONFIGURE_FAILED},
        V.RECONFIGURE_FAILED: {V.STARTING, V.STOPPING, V.RECONFIGURING},
    }),
    in_progress=frozenset(VOLUME_IN_PROGRESS),
    hints={
        V.STARTING: "start it only when it is Created, Stopped or StartFailed (or Started, with force)",
        V.STOPPING: "stop it only when it is Started, StartFailed or StopFailed",
        V.DELETING: "stop it first (`kadalu volume stop`); a volume is deleted when Created, Stopped or failed",
        V.EXPANDING: "expand it when it is Created, Started or Stopped; a failed expand is retried "
                     "(`kadalu volume expand --retry`) or aborted (`--abort`) first",
        V.ABORTING_EXPAND: "only a failed expand (ExpandFailed) can be aborted",
        V.RECONFIGURING: "brick-side options are applied live to a Started volume",
    },
)

B = BrickState
BRICK = Table(
    kind="brick",
    # A brick records the done word of the last task it went through: any task may follow any
    # other (a retried start, a delete after a failure), except that a deleted brick is gone.
    arrows=_arrows({s: set(B) - {B.CREATING} for s in B if s != B.DELETED} | {B.DELETED: set()}),
)

D = DeviceState
DEVICE = Table(
    kind="device",
    arrows=_arrows({
        D.ADDING: {D.READY, D.FAILED},
        D.READY: {D.REMOVING},
        D.FAILED: {D.ADDING},  # adding a failed device again retries it
        D.REMOVING: {D.READY},  # the agent could not let it go: it stays, with the reason
    }),
    in_progress=frozenset(DEVICE_IN_PROGRESS),
    hints={D.REMOVING: "only a Ready device is removed through its agent (a Failed one is just dropped)",
           D.ADDING: "only a Failed device is added again"},
)

N = NodeState
NODE = Table(
    kind="node",
    arrows=_arrows({
        N.REGISTERED: {N.ONLINE, N.UNREACHABLE},
        N.ONLINE: {N.UNREACHABLE},
        N.UNREACHABLE: {N.ONLINE},
    }),
)

R = RebalanceState
REBALANCE = Table(
    kind="rebalance",
    # One node's row. starting/stopping: a command sent, settled by its answer; reports update a
    # run in progress; a finished run (stopped, completed, failed) keeps its last counts until the
    # next start, and a stop is always accepted (it makes sure nothing runs).
    arrows=_arrows({
        R.NOT_STARTED: {R.STARTING, R.STOPPING},
        R.STARTING: {R.IN_PROGRESS, R.COMPLETED, R.STOPPED, R.FAILED, R.STOPPING},
        R.IN_PROGRESS: {R.IN_PROGRESS, R.COMPLETED, R.STOPPED, R.FAILED, R.STOPPING},
        R.STOPPING: {R.STOPPED, R.COMPLETED, R.FAILED},
        R.STOPPED: {R.STOPPED, R.STARTING, R.STOPPING},
        R.COMPLETED: {R.COMPLETED, R.STARTING, R.STOPPING},
        R.FAILED: {R.FAILED, R.STARTING, R.STOPPING},
    }),
    in_progress=frozenset(REBALANCE_ACTIVE),
    hints={R.STARTING: "a rebalance is running: see `kadalu volume rebalance status`, or stop it",
           R.STOPPING: "no rebalance is running"},
)

G = GeoRepState
GEOREP = Table(
    kind="geo-replication session",
    # Faulty: the last request failed on a node (the reason says where); the user starts, stops or
    # deletes from there.
    arrows=_arrows({
        G.CREATING: {G.CREATED, G.STARTING, G.FAULTY},  # Starting: keys are in place and it starts on its own
        G.CREATED: {G.STARTING, G.DELETING},
        G.STARTING: {G.STARTED, G.FAULTY},
        G.STARTED: {G.STARTING, G.PAUSING, G.STOPPING},  # Starting: a new config or the Active workers change
        G.PAUSING: {G.PAUSED, G.FAULTY},
        G.PAUSED: {G.RESUMING, G.STOPPING},
        G.RESUMING: {G.STARTED, G.FAULTY},
        G.STOPPING: {G.STOPPED, G.FAULTY},
        G.STOPPED: {G.STARTING, G.DELETING},
        G.FAULTY: {G.STARTING, G.STOPPING, G.DELETING},
        G.DELETING: {G.DELETED, G.FAULTY},
        G.DELETED: set(),
    }),
    in_progress=frozenset(GEOREP_IN_PROGRESS),
    hints={
        G.STARTING: "start a session that is Created, Stopped or Faulty",
        G.PAUSING: "pause a Started session",
        G.RESUMING: "resume a Paused session",
        G.STOPPING: "stop a session that is Started, Paused or Faulty",
        G.DELETING: "stop it first (`kadalu geo-replication stop ID`); a Created, Stopped or Faulty session is deleted",
    },
)
