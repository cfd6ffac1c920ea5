"""Scheduled snapshots: beat runs `run_due` (every 30 s); a schedule that is due takes one snapshot of
its volume and prunes the oldest of its own beyond `keep`. The next run is counted from the run that
happened, not from the one missed: a control plane that was down for ten periods takes one snapshot
when it comes back, not ten. Each due schedule is claimed by a conditional update, so two beat
runs at once never take two snapshots for one period."""
import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from contracts.snapshot_states import SnapshotState
from controlplane.db import rowcount, utcnow
from controlplane.models import Cluster, Snapshot, SnapshotSchedule, Volume
from controlplane.services import alerts
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Invalid, ServiceError
from controlplane.services.snapshots_create import begin
from controlplane.services.snapshots_restore import begin_delete
from controlplane.services.volume_specs import refs

log = logging.getLogger(__name__)
S = SnapshotState
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_EVERY, MAX_EVERY, MAX_KEEP = 60, 366 * 86400, 1000


def parse_every(text: str) -> int:
    m = re.fullmatch(r"\s*(\d{1,7})\s*([smhdw])\s*", text or "")
    if not m:
        raise Invalid(f"invalid interval {str(text)[:40]!r}: give a number and a unit (s, m, h, d, w), e.g. 1h or 30m")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if not MIN_EVERY <= seconds <= MAX_EVERY:
        raise Invalid(f"interval {text!r} is out of range: between 1m and 366d")
    return seconds


def describe_every(seconds: int) -> str:
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def get(session: Session, volume: Volume) -> SnapshotSchedule | None:
    return session.exec(select(SnapshotSchedule).where(col(SnapshotSchedule.volume_id) == volume.id)).first()


def set_schedule(session: Session, *, access: Access, cluster: Cluster, volume: Volume, every: str | None,
                 keep: int | None, off: bool = False) -> SnapshotSchedule | None:
    """Set (or with `off`, remove) the schedule of `volume`; the first run is one interval from now."""
    access.require(WRITE, cluster.id, f"schedule snapshots of volume {volume.name!r}", refs(volume))
    current = get(session, volume)
    if off:
        if current is not None:
            session.delete(current)
        session.commit()
        return None
    if every is None or keep is None:
        raise Invalid("a schedule needs --every (e.g. 1h) and --keep (how many of its snapshots to keep)")
    seconds = parse_every(every)
    if not 1 <= keep <= MAX_KEEP:
        raise Invalid(f"keep {keep} is out of range: between 1 and {MAX_KEEP}")
    sch = current or SnapshotSchedule(cluster_id=cluster.id, volume_id=volume.id, every_seconds=seconds, keep=keep)
    sch.every_seconds, sch.keep = seconds, keep
    sch.next_run_at = utcnow() + timedelta(seconds=seconds)
    session.add(sch)
    session.commit()
    return sch


def _claim(session: Session, sch: SnapshotSchedule, now: datetime) -> bool:
    done = session.execute(update(SnapshotSchedule)
                           .where(col(SnapshotSchedule.id) == sch.id, col(SnapshotSchedule.next_run_at) == sch.next_run_at)
                           .values(next_run_at=now + timedelta(seconds=sch.every_seconds), last_run_at=now))
    return rowcount(done) == 1


def prune(session: Session, sch: SnapshotSchedule) -> int:
    """Delete this schedule's oldest snapshots beyond `keep` (activated ones are left alone)."""
    mine = list(session.exec(select(Snapshot).where(col(Snapshot.schedule_id) == sch.id,
                                                     col(Snapshot.state).in_([S.CREATING, S.CREATED, S.DEACTIVATED]))
                             .order_by(col(Snapshot.created_at).desc(), col(Snapshot.name).desc())))
    old = [s for s in mine[sch.keep:] if s.state in (S.CREATED, S.DEACTIVATED)]
    for snap in old:
        begin_delete(session, snap)
    return len(old)


def run_due(session: Session, now: datetime | None = None) -> int:
    """Take the snapshots that are due; returns how many were started."""
    now = now or utcnow()
    due = list(session.exec(select(SnapshotSchedule).where(col(SnapshotSchedule.next_run_at) <= now)))
    started = 0
    for sch in due:
        if not _claim(session, sch, now):
            session.rollback()
            continue
        vol, cluster = session.get(Volume, sch.volume_id), session.get(Cluster, sch.cluster_id)
        if vol is None or cluster is None:
            session.commit()
            continue
        name = f"{vol.name[:44]}-{now:%Y%m%d-%H%M%S}"
        try:
            begin(session, cluster, vol, name, f"scheduled every {describe_every(sch.every_seconds)}", schedule_id=sch.id)
            started += 1
        except ServiceError as exc:
            log.warning("scheduled snapshot of volume %s not taken: %s", vol.name, exc.message)
            alerts.record(session, cluster.id, "snapshot_schedule_failed",
                          f"scheduled snapshot of volume {vol.name!r} not taken: {exc.message}", volume_id=vol.id)
        prune(session, sch)
        session.commit()
    return started
