"""Options: set and reset. A change to a brick or self-heal graph of a Started volume restarts its
bricks in waves, one brick of every set at a time, waiting for self-heal between waves, so a
replica set keeps quorum and the volume stays writable (state Reconfiguring); client graph changes
reach clients through the agents' volfile servers."""
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from controlplane.db import utcnow
from controlplane.models import Task, Volume
from controlplane.services import metadata, volume_health, volume_plan
from controlplane.services.access import Access
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_ops.steps import Operation, failed, reasons, refuse_if_busy, settle_to, step
from controlplane.services.volume_options import check_known, restarts_bricks, validated
from controlplane.services.volume_specs import bricks_of

V = VolumeState
ROLLING_SETTLE_SECONDS = 4.0  # clients retry a lost brick every 3 s
RESTART_FROM = (V.STARTED, V.RECONFIGURE_FAILED)


@dataclass(frozen=True)
class OptionsRequest:
    set: dict[str, str] = field(default_factory=dict)
    reset: list[str] = field(default_factory=list)


def _wave(session: Session, volume: Volume) -> list[Task]:
    size = volume_plan.set_size(volume)
    bricks = [b for b in bricks_of(session, volume) if b.idx % size == volume.wave]
    # the last wave needs no pause: nothing goes down after it
    settle = ROLLING_SETTLE_SECONDS if volume.wave + 1 < size else 0.0
    return step(session, volume, bricks, TaskKind.RESTART_BRICK, settle_seconds=settle)


def _settle_wave(session: Session, volume: Volume, done: list[Task]) -> None:
    """A wave finished: the next brick of every set (after self-heal caught up), or back to Started."""
    bad = failed(done)
    if bad:
        settle_to(session, volume, V.RECONFIGURE_FAILED, reasons(session, bad))
    elif volume.wave + 1 < volume_plan.set_size(volume):
        # The next brick of each set goes down only once self-heal has caught up with this wave:
        # otherwise two bricks of a set could each miss changes and leave no good copy to read.
        volume.wave += 1
        volume.wave_waits_since = utcnow()
        volume.reason = "waiting for self-heal to finish before restarting the next brick of each set"
        session.add(volume)
    else:
        settle_to(session, volume, volume.resume_state or V.STARTED)


RECONFIGURE = Operation(V.RECONFIGURING, _settle_wave)


def change(session: Session, *, access: Access, volume: Volume, request: OptionsRequest) -> list[Task]:
    """Set and/or reset options; the first wave of brick restarts when running bricks need one."""
    RECONFIGURE.check_access(access, volume)
    values = validated(request.set)
    check_known(request.reset)
    refuse_if_busy(volume)
    options = {k: v for k, v in volume.options.items() if k not in request.reset}
    options.update(values)
    changed = [n for n in {*values, *request.reset} if volume.options.get(n) != options.get(n)]
    volume.options = options
    session.add(volume)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    made: list[Task] = []
    if changed and volume.state in RESTART_FROM and restarts_bricks(changed):
        volume.resume_state, volume.wave = V.STARTED, 0
        VOLUME.move(volume, V.RECONFIGURING)
        made = _wave(session, volume)
    session.commit()
    return made


def advance_waiting_waves(session: Session) -> int:
    """Beat: start the next wave of every volume whose bricks all run again and report no pending
    heal since the last wave finished."""
    started = 0
    waiting = session.exec(select(Volume).where(col(Volume.state) == V.RECONFIGURING,
                                                col(Volume.wave_waits_since).is_not(None)))
    for volume in waiting.all():
        bricks = bricks_of(session, volume)
        states = volume_health.node_states(session, volume.cluster_id)
        since = volume.wave_waits_since
        fresh = [b for b in bricks if b.reported_at and since and b.reported_at > since]
        if len(fresh) < len(bricks) or not all(volume_health.brick_is_online(b, states) for b in bricks):
            continue
        pending = sum(b.heal_pending for b in bricks)
        if pending:
            volume.reason = f"waiting for self-heal: {pending} entries pending before the next brick of each set restarts"
            session.add(volume)
            session.commit()
            continue
        volume.wave_waits_since, volume.reason = None, ""
        _wave(session, volume)
        session.commit()
        started += 1
    return started
