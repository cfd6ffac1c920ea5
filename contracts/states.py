"""Every state word of every resource, in one place, with the named groups both sides act on.

The control plane writes these (through controlplane/services/transitions.py only), the agent
acts on the volume states it finds in its metadata copy, and the CLI shows them; the API tells
clients whether a volume's state is settled, so no client re-derives it from these groups."""
from enum import StrEnum

from contracts.task_kinds import TERMINAL_PHASES  # noqa: F401  (task phases live with the task kinds;
from contracts.task_kinds import Phase as TaskPhase  # noqa: F401  named here too, for one import)


class VolumeState(StrEnum):
    CREATING = "Creating"
    CREATED = "Created"
    CREATE_FAILED = "CreateFailed"
    STARTING = "Starting"
    STARTED = "Started"
    START_FAILED = "StartFailed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    STOP_FAILED = "StopFailed"
    DELETING = "Deleting"
    DELETE_FAILED = "DeleteFailed"
    DELETED = "Deleted"
    EXPANDING = "Expanding"
    EXPAND_FAILED = "ExpandFailed"
    ABORTING_EXPAND = "AbortingExpand"  # the bricks of a failed expand are taken out again
    RECONFIGURING = "Reconfiguring"
    RECONFIGURE_FAILED = "ReconfigureFailed"


V = VolumeState
# A request is in flight: the server answers 409 to another one.
VOLUME_IN_PROGRESS = frozenset({V.CREATING, V.STARTING, V.STOPPING, V.DELETING, V.EXPANDING, V.ABORTING_EXPAND,
                                V.RECONFIGURING})
# The last request failed; the volume's reason says why.
VOLUME_FAILED = frozenset({V.CREATE_FAILED, V.START_FAILED, V.STOP_FAILED, V.DELETE_FAILED, V.EXPAND_FAILED,
                           V.RECONFIGURE_FAILED})
# In flight while the bricks keep the state they had: agents act on `resume_state` meanwhile.
VOLUME_PASSING = frozenset({V.EXPANDING, V.ABORTING_EXPAND, V.RECONFIGURING})
# The agent restarts a volume's bricks after a reboot (the local copy may predate Starting -> Started).
VOLUME_BRICKS_SHOULD_RUN = frozenset({V.STARTING, V.STARTED, V.START_FAILED})
# The agent reports its bricks of these volumes in heartbeats.
VOLUME_BRICKS_REPORTED = frozenset({V.STARTING, V.STARTED, V.START_FAILED, V.STOPPING})
# Brick liveness makes a health (Up / Degraded / Down) in these states.
VOLUME_HAS_HEALTH = frozenset({V.STARTED, V.START_FAILED, V.EXPANDING, V.RECONFIGURING, V.RECONFIGURE_FAILED,
                               V.EXPAND_FAILED, V.ABORTING_EXPAND})
# Clients may fetch a volfile: the bricks exist and are not being taken apart.
VOLUME_MOUNTABLE = frozenset(set(V) - {V.CREATING, V.CREATE_FAILED, V.DELETING, V.DELETE_FAILED, V.DELETED})


def volume_settled(state: str) -> bool:
    """No request in flight: what a client waiting on a volume waits for."""
    return state not in VOLUME_IN_PROGRESS


class BrickState(StrEnum):
    """The done word of the last task a brick went through, or Failed."""

    CREATING = "Creating"
    CREATED = "Created"
    STARTED = "Started"
    STOPPED = "Stopped"
    DELETED = "Deleted"
    FAILED = "Failed"


class DeviceState(StrEnum):
    ADDING = "Adding"
    READY = "Ready"
    FAILED = "Failed"
    REMOVING = "Removing"


DEVICE_IN_PROGRESS = frozenset({DeviceState.ADDING, DeviceState.REMOVING})
# The agent measures these (it accepted them and has not let them go).
DEVICE_IN_USE = frozenset({DeviceState.READY, DeviceState.REMOVING})


class NodeState(StrEnum):
    REGISTERED = "Registered"  # never seen a heartbeat
    ONLINE = "Online"
    UNREACHABLE = "Unreachable"


class RebalanceState(StrEnum):
    NOT_STARTED = "not_started"
    STARTING = "starting"  # the control plane sent START_REBALANCE; no answer yet
    IN_PROGRESS = "in_progress"
    STOPPING = "stopping"  # the control plane sent STOP_REBALANCE; no answer yet
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


R = RebalanceState
REBALANCE_ACTIVE = frozenset({R.STARTING, R.IN_PROGRESS, R.STOPPING})
# What an agent may report (starting and stopping are the control plane's own words).
REBALANCE_REPORTED = frozenset({R.NOT_STARTED, R.IN_PROGRESS, R.STOPPED, R.COMPLETED, R.FAILED})
# A volume's rebalance is the first of these that any of its nodes is in.
REBALANCE_ROLLUP = (R.FAILED, R.STOPPING, R.STARTING, R.IN_PROGRESS, R.STOPPED, R.COMPLETED, R.NOT_STARTED)


def rebalance_rollup(states: set[str]) -> RebalanceState:
    return next((s for s in REBALANCE_ROLLUP if s in states), R.NOT_STARTED)


class GeoRepState(StrEnum):
    """A geo-replication session (controlplane/services/georep*.py)."""

    CREATING = "Creating"  # master nodes make the session's ssh keys, remote nodes take them
    CREATED = "Created"
    STARTING = "Starting"
    STARTED = "Started"
    PAUSING = "Pausing"
    PAUSED = "Paused"
    RESUMING = "Resuming"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAULTY = "Faulty"  # the last request failed on a node: the session's reason says where and why
    DELETING = "Deleting"
    DELETED = "Deleted"


G = GeoRepState
GEOREP_IN_PROGRESS = frozenset({G.CREATING, G.STARTING, G.PAUSING, G.RESUMING, G.STOPPING, G.DELETING})
# Agents keep gsyncd monitors running (or frozen, Paused) for sessions in these states.
GEOREP_RUNS = frozenset({G.STARTING, G.STARTED, G.RESUMING})
GEOREP_FROZEN = frozenset({G.PAUSING, G.PAUSED})


def georep_settled(state: str) -> bool:
    return state not in GEOREP_IN_PROGRESS


class GeoRepWorkerStatus(StrEnum):
    """One master brick's gsyncd worker as its agent reports it (gsyncd's own words)."""

    ACTIVE = "Active"
    PASSIVE = "Passive"
    FAULTY = "Faulty"
    INITIALIZING = "Initializing..."
    CREATED = "Created"
    STOPPED = "Stopped"
    PAUSED = "Paused"
    OFFLINE = "Offline"  # no report: the node or its agent is down
