"""A snapshot follows the volume it is activated as (the volume row whose id is the snapshot's):
called by the volume operations' registry whenever a volume settles. Imports no volume operation
(the registry imports this module)."""
from sqlmodel import Session

from contracts.snapshot_states import SnapshotState
from contracts.states import VolumeState
from controlplane.models import Snapshot, Volume
from controlplane.services import metadata
from controlplane.services.snapshots_table import SNAPSHOT

S, V = SnapshotState, VolumeState


def drop_volume(session: Session, vol: Volume) -> None:
    """The activation's volume row goes (its bricks with it); the snapshot's copies stay on the nodes."""
    metadata.changed(session, vol.cluster_id, volume_id=vol.id)
    session.delete(vol)


def follow(session: Session, vol: Volume) -> None:
    snap = session.get(Snapshot, vol.id)
    if snap is None:
        return
    if snap.state == S.ACTIVATING:
        if vol.state == V.STARTED:
            SNAPSHOT.move(snap, S.ACTIVATED, "")
        elif vol.state == V.START_FAILED:
            SNAPSHOT.move(snap, S.ACTIVATED, f"some bricks did not start: {vol.reason}; deactivate and activate again")
        elif vol.state == V.CREATE_FAILED:
            SNAPSHOT.move(snap, S.DEACTIVATED, f"activation failed: {vol.reason}")
            drop_volume(session, vol)
    elif snap.state == S.DEACTIVATING:
        if vol.state == V.STOPPED:
            SNAPSHOT.move(snap, S.DEACTIVATED, "")
            drop_volume(session, vol)
        elif vol.state == V.STOP_FAILED:
            SNAPSHOT.move(snap, S.ACTIVATED, f"deactivation failed: {vol.reason}")
    session.add(snap)
    metadata.changed(session, snap.cluster_id, snapshot_id=snap.id)
