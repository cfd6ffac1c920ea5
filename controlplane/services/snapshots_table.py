"""The snapshot state table: every arrow a snapshot may take (see contracts/snapshot_states.py)."""
from contracts.snapshot_states import SNAPSHOT_IN_PROGRESS, SnapshotState
from controlplane.services.transitions import Table, _arrows

S = SnapshotState
SNAPSHOT = Table(
    kind="snapshot",
    arrows=_arrows({
        S.CREATING: {S.CREATED, S.FAILED},
        S.CREATED: {S.ACTIVATING, S.RESTORING, S.DELETING},
        S.FAILED: {S.DELETING, S.DELETED},  # a delete removes whatever a failed cleanup left
        # an activation that fails leaves the snapshot as it was (Deactivated), with the reason
        S.ACTIVATING: {S.ACTIVATED, S.DEACTIVATED},
        S.ACTIVATED: {S.DEACTIVATING},
        S.DEACTIVATING: {S.DEACTIVATED, S.ACTIVATED},
        S.DEACTIVATED: {S.ACTIVATING, S.RESTORING, S.DELETING},
        S.RESTORING: {S.CREATED, S.DEACTIVATED},
        S.DELETING: {S.DELETED, S.CREATED, S.DEACTIVATED, S.FAILED},  # a failed delete: back, with the reason
        S.DELETED: set(),
    }),
    in_progress=frozenset(SNAPSHOT_IN_PROGRESS),
    hints={
        S.ACTIVATING: "activate a Created or Deactivated snapshot",
        S.DEACTIVATING: "only an Activated snapshot is deactivated",
        S.RESTORING: "deactivate the snapshot first (`kadalu snapshot deactivate`); a snapshot is restored when "
                     "Created or Deactivated",
        S.DELETING: "deactivate it first (`kadalu snapshot deactivate`)",
    },
)
