"""Snapshots of volumes: take, list, activate (mount read-only), restore, clone, delete, schedule.
Authorised on the origin volume (viewer to read, maintainer to change); see docs/snapshots.md."""
from fastapi import APIRouter, status
from sqlmodel import Session, col, select

from controlplane.api import snapshot_schemas as ss
from controlplane.api.deps import CurrentAccess, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.api.schemas import ListOf
from controlplane.models import Cluster, Node, Snapshot, Volume
from controlplane.services import clusters, snapshots, snapshots_activate, snapshots_create, snapshots_restore, volumes
from controlplane.services import snapshots_schedule as schedules
from controlplane.services.errors import NotFound

router = APIRouter(prefix="/clusters/{cluster}", tags=["snapshots"])


def _shown(session: Session, c: Cluster, snaps: list[Snapshot], message: str = "") -> list[ss.SnapshotPublic]:
    node_ids = sorted({b["node_id"] for s in snaps for b in s.bricks})
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(node_ids)))} if node_ids else {}
    vol_ids = sorted({s.volume_id for s in snaps})
    vols = {v.id: v.name for v in session.exec(select(Volume).where(col(Volume.id).in_(vol_ids)))} if vol_ids else {}
    return [ss.present(s, c.name, vols.get(s.volume_id, s.volume_id), nodes, message) for s in snaps]


def _one(session: Session, c: Cluster, snap: Snapshot, message: str = "") -> ss.SnapshotPublic:
    return _shown(session, c, [snap], message)[0]


@router.get("/snapshots", response_model=ListOf[ss.SnapshotPublic], responses=errors(404))
def read_snapshots(cluster: str, access: CurrentAccess, session: SessionDep, volume: str | None = None):
    """Snapshots (of one volume with `volume`), oldest first."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume) if volume else None
    snaps = snapshots.list_visible(session, access, c, vol)
    return ListOf(data=_shown(session, c, snaps), count=len(snaps))


@router.post("/snapshots", response_model=ss.SnapshotPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409, 422))
def create_snapshot(cluster: str, body: ss.SnapshotCreate, access: CurrentAccess, session: SessionDep):
    """Take a consistent snapshot of a Started volume (barrier on, backend snapshots, barrier off)."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, body.volume)
    snap = snapshots_create.create(session, access=access, cluster=c, volume=vol, name=body.name,
                                   description=body.description)
    return _one(session, c, snap, "Snapshot create request sent.")


@router.get("/snapshots/{snapshot}", response_model=ss.SnapshotPublic, responses=errors(404))
def read_snapshot(cluster: str, snapshot: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    return _one(session, c, snapshots.get(session, access, c, snapshot))


@router.delete("/snapshots/{snapshot}", response_model=ss.SnapshotPublic, status_code=status.HTTP_202_ACCEPTED,
               responses=errors(403, 404, 409))
def delete_snapshot(cluster: str, snapshot: str, access: CurrentAccess, session: SessionDep):
    """Remove the backend snapshots on every node, then the snapshot (deactivate it first)."""
    c = clusters.get_visible(session, access, cluster)
    snap = snapshots.get(session, access, c, snapshot)
    shown = _one(session, c, snap)
    snapshots_restore.delete(session, access=access, snap=snap)
    if session.get(Snapshot, shown.id) is None:  # nothing was on the nodes: gone already
        return shown.model_copy(update={"state": "Deleted", "settled": True, "message": "Snapshot deleted."})
    return _one(session, c, snap, "Snapshot delete request sent.")


@router.post("/snapshots/{snapshot}/activate", response_model=ss.SnapshotPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def activate_snapshot(cluster: str, snapshot: str, access: CurrentAccess, session: SessionDep, settings: SettingsDep):
    """Start the snapshot's bricks read-only under its own volume id: it mounts under its name."""
    c = clusters.get_visible(session, access, cluster)
    snap = snapshots.get(session, access, c, snapshot)
    snapshots_activate.activate(session, access=access, cluster=c, snap=snap, port_base=settings.brick_port_base,
                                port_last=settings.brick_port_last)
    return _one(session, c, snap, "Snapshot activate request sent.")


@router.post("/snapshots/{snapshot}/deactivate", response_model=ss.SnapshotPublic,
             status_code=status.HTTP_202_ACCEPTED, responses=errors(403, 404, 409))
def deactivate_snapshot(cluster: str, snapshot: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    snap = snapshots.get(session, access, c, snapshot)
    snapshots_activate.deactivate(session, access=access, snap=snap)
    return _one(session, c, snap, "Snapshot deactivate request sent.")


@router.post("/snapshots/{snapshot}/restore", response_model=ss.SnapshotPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def restore_snapshot(cluster: str, snapshot: str, access: CurrentAccess, session: SessionDep):
    """Roll the (stopped) origin volume's bricks back to the snapshot: what was written since is lost."""
    c = clusters.get_visible(session, access, cluster)
    snap = snapshots.get(session, access, c, snapshot)
    snapshots_restore.restore(session, access=access, snap=snap)
    return _one(session, c, snap, "Snapshot restore request sent.")


@router.post("/snapshots/{snapshot}/clone", response_model=ss.SnapshotPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409, 422))
def clone_snapshot(cluster: str, snapshot: str, body: ss.SnapshotClone, access: CurrentAccess, session: SessionDep,
                   settings: SettingsDep):
    """A new writable volume (created, not started) from the snapshot: `kadalu volume start` it."""
    c = clusters.get_visible(session, access, cluster)
    snap = snapshots.get(session, access, c, snapshot)
    snapshots_restore.clone(session, access=access, cluster=c, snap=snap, name=body.name,
                            port_base=settings.brick_port_base, port_last=settings.brick_port_last)
    return _one(session, c, snap, f"Clone request sent: volume {body.name!r} is being created.")


@router.get("/volumes/{volume}/snapshot-schedule", response_model=ss.SchedulePublic, responses=errors(404))
def read_schedule(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    sch = schedules.get(session, vol)
    if sch is None:
        raise NotFound(f"volume {volume!r} has no snapshot schedule: `kadalu snapshot schedule -c {c.name} {volume} "
                       "--every 1h --keep 24`")
    return ss.present_schedule(sch, vol.name, schedules.describe_every(sch.every_seconds))


@router.put("/volumes/{volume}/snapshot-schedule", response_model=ss.SchedulePublic, responses=errors(403, 404, 422))
def set_schedule(cluster: str, volume: str, body: ss.ScheduleSet, access: CurrentAccess, session: SessionDep):
    """Take a snapshot of the volume every `every`, keeping the newest `keep` of them (beat runs it)."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    sch = schedules.set_schedule(session, access=access, cluster=c, volume=vol, every=body.every, keep=body.keep)
    assert sch is not None
    return ss.present_schedule(sch, vol.name, schedules.describe_every(sch.every_seconds))


@router.delete("/volumes/{volume}/snapshot-schedule", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404))
def remove_schedule(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    schedules.set_schedule(session, access=access, cluster=c, volume=vol, every=None, keep=None, off=True)
