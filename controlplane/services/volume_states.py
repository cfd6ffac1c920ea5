"""The one volume state table and the one function that changes a volume's state."""
from controlplane.db import utcnow
from controlplane.models import Volume
from controlplane.services.errors import Conflict

IN_PROGRESS = frozenset({"Creating", "Starting", "Stopping", "Deleting", "Expanding", "Reconfiguring"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "Creating": frozenset({"Created", "CreateFailed"}),
    "Created": frozenset({"Starting", "Deleting", "Expanding"}),
    "CreateFailed": frozenset({"Deleting"}),
    "Starting": frozenset({"Started", "StartFailed"}),
    "Started": frozenset({"Starting", "Stopping", "Expanding", "Reconfiguring"}),  # Starting: `start --force`
    "StartFailed": frozenset({"Starting", "Stopping", "Deleting"}),
    "Stopping": frozenset({"Stopped", "StopFailed"}),
    "Stopped": frozenset({"Starting", "Deleting", "Expanding"}),
    "StopFailed": frozenset({"Stopping", "Starting", "Deleting"}),
    "Deleting": frozenset({"Deleted", "DeleteFailed"}),
    "DeleteFailed": frozenset({"Deleting"}),
    "Deleted": frozenset(),
    # expand: create the new bricks (and start them when the volume runs), then back where it was
    "Expanding": frozenset({"Created", "Started", "Stopped", "ExpandFailed"}),
    "ExpandFailed": frozenset({"Starting", "Stopping", "Deleting", "Expanding"}),
    # a brick-side option change: rolling restarts, one brick of every set at a time
    "Reconfiguring": frozenset({"Started", "ReconfigureFailed"}),
    "ReconfigureFailed": frozenset({"Starting", "Stopping", "Reconfiguring"}),
}

# What a request needs to say when the volume is not in a state it can start from.
_HOW = {
    "Starting": "start it only when it is Created, Stopped or StartFailed (or Started, with --force)",
    "Stopping": "stop it only when it is Started, StartFailed or StopFailed",
    "Deleting": "stop it first (`kadalu volume stop`); a volume is deleted when Created, Stopped or failed",
    "Expanding": "expand it when it is Created, Started or Stopped",
    "Reconfiguring": "brick-side options are applied live to a Started volume",
}


def can(volume: Volume, to: str) -> bool:
    return to in TRANSITIONS.get(volume.state, frozenset())


def transition(volume: Volume, to: str, reason: str = "") -> None:
    if not can(volume, to):
        if volume.state in IN_PROGRESS:
            raise Conflict(
                f"volume {volume.name!r} is {volume.state} (another request is in progress): wait for it to finish "
                f"(`kadalu volume status {volume.name}`), then retry"
            )
        hint = _HOW.get(to, "")
        raise Conflict(f"volume {volume.name!r} is {volume.state} and cannot go to {to}" + (f": {hint}" if hint else ""))
    volume.state = to
    volume.reason = reason[:8192]
    volume.updated_at = utcnow()
