"""The states of a snapshot, shared by the control plane (the only writer, through
controlplane/services/snapshots_table.py), the agent and the CLI.

Creating runs in four steps (see controlplane/services/snapshots_create.py): probe every brick's
backend, barrier on at every brick, each node takes its backend snapshots, barrier off. A failure
at any step turns the barrier off everywhere and removes what was taken: the snapshot is Failed
with the reason, and nothing of it is left on any node."""
from enum import StrEnum


class SnapshotState(StrEnum):
    CREATING = "Creating"
    CREATED = "Created"
    FAILED = "Failed"  # the create failed; nothing of it is left on the nodes; its reason says why
    ACTIVATING = "Activating"  # its bricks start read-only under the snapshot's own volume id
    ACTIVATED = "Activated"  # mountable: `kadalu mount -c C SNAP`
    DEACTIVATING = "Deactivating"
    DEACTIVATED = "Deactivated"
    RESTORING = "Restoring"  # the origin volume's bricks are rolled back to the snapshot
    DELETING = "Deleting"
    DELETED = "Deleted"


S = SnapshotState
SNAPSHOT_IN_PROGRESS = frozenset({S.CREATING, S.ACTIVATING, S.DEACTIVATING, S.RESTORING, S.DELETING})
# Its backend snapshots exist on the nodes: it can be activated, restored, cloned or deleted.
SNAPSHOT_USABLE = frozenset({S.CREATED, S.ACTIVATED, S.DEACTIVATED})


def snapshot_settled(state: str) -> bool:
    return state not in SNAPSHOT_IN_PROGRESS


# The steps of a create, in order (Snapshot.step); "cleanup": a failure is being undone.
CREATE_STEPS = ("probe", "barrier-on", "take", "barrier-off", "cleanup")

# Backends a brick's snapshot can be taken on.
BACKENDS = ("btrfs", "lvm-thin")
