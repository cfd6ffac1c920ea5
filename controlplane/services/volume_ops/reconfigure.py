"""Options: set and reset. Any change to a Started volume is applied live (state Reconfiguring):
one RECONFIGURE_BRICK task per brick, and each agent gives its running bricks, self-heal daemon and
mounted clients the new graphs through its volfile servers, in place, with no restart; the step is
over when every brick has fetched its new volfile (the agents see it), so `--wait` returns when the
change runs everywhere.

A change that alters the shape of a brick or self-heal graph (a translator added or removed:
volgen.topology), an option a brick reads only when it opens its socket (RESTART_ONLY), or a brick
that cannot follow (started from a local volfile by an older agent: the
agent answers "restart_needed"), falls back to restarting the bricks in waves, one brick of every
set at a time, waiting for self-heal between waves, so a replica set keeps quorum and the volume
stays writable."""
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from contracts.volume_spec import VolumeSpec
from controlplane.db import utcnow
from controlplane.models import Task, Volume
from controlplane.services import metadata, volume_health, volume_plan
from controlplane.services.access import Access
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_ops.steps import Operation, failed, reasons, refuse_if_busy, settle_to, step
from controlplane.services.volume_options import check_combination, check_known, validated
from controlplane.services.volume_specs import bricks_of, spec
from volgen import brick_volfile, shd_volfile
from volgen.shd import HEALS_VOLUME_TYPES
from volgen.topology import graph_shape

V = VolumeState
ROLLING_SETTLE_SECONDS = 4.0  # clients retry a lost brick every 3 s
RESTART_FROM = (V.STARTED, V.RECONFIGURE_FAILED)
RESTART_NEEDED = "restart_needed"  # the agent's error code: this brick cannot take the change live
# Options a brick reads only when it opens its listening socket (TLS, address family, backlog): a
# reconfigure would store them and change nothing, so they restart the bricks in waves.
RESTART_ONLY = frozenset({"server.ssl", "transport.address-family", "transport.listen-backlog"})


def needs_restart(names: list[str]) -> bool:
    return any(n in RESTART_ONLY or n.startswith("ssl.") for n in names)


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


def shapes(vspec: VolumeSpec) -> list[list[tuple[str, str]]]:
    """The shape of every brick graph and of the self-heal graph: what a live change must keep."""
    out = [graph_shape(brick_volfile(vspec, b, b.node_id)) for b in vspec.bricks]
    if vspec.type in HEALS_VOLUME_TYPES:
        out.append(graph_shape(shd_volfile(vspec)))
    return out


def _live(session: Session, volume: Volume) -> list[Task]:
    return step(session, volume, bricks_of(session, volume), TaskKind.RECONFIGURE_BRICK)


def _rolling(session: Session, volume: Volume) -> list[Task]:
    volume.wave = 0
    return _wave(session, volume)


def _settle(session: Session, volume: Volume, done: list[Task]) -> None:
    """The live step finished: Started; or, where a brick could not take it live, the rolling restart."""
    if not done or any(t.kind != TaskKind.RECONFIGURE_BRICK for t in done):
        _settle_wave(session, volume, done)
        return
    bad = failed(done)
    if not bad:
        settle_to(session, volume, volume.resume_state or V.STARTED)
    elif all((t.error or {}).get("code") == RESTART_NEEDED for t in bad):
        volume.reason = "restarting the bricks one per set: a brick could not take the change in place"
        _rolling(session, volume)
    else:
        settle_to(session, volume, V.RECONFIGURE_FAILED, reasons(session, bad))


RECONFIGURE = Operation(V.RECONFIGURING, _settle)


def change(session: Session, *, access: Access, volume: Volume, request: OptionsRequest) -> list[Task]:
    """Set and/or reset options; on a running volume, the live step (or the first wave of restarts
    when the shape of a brick or self-heal graph changes)."""
    RECONFIGURE.check_access(access, volume)
    values = validated(request.set)
    check_known(request.reset)
    refuse_if_busy(volume)
    options = {k: v for k, v in volume.options.items() if k not in request.reset}
    options.update(values)
    check_combination(options)
    return reconfigure_to(session, volume, options)


def reconfigure_to(session: Session, volume: Volume, options: dict[str, str]) -> list[Task]:
    """Store `options` as the volume's (already checked) and, on a running volume, send the live
    step or the first wave of restarts; commits. Callers check access and refuse_if_busy first."""
    changed = [n for n in {*volume.options, *options} if volume.options.get(n) != options.get(n)]
    # ReconfigureFailed: the same request again retries the change on every brick, even when the
    # stored options do not change any more
    running = volume.state in RESTART_FROM and (bool(changed) or volume.state == V.RECONFIGURE_FAILED)
    before = shapes(spec(session, volume)) if running else []
    volume.options = options
    session.add(volume)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    made: list[Task] = []
    if running:
        volume.resume_state, volume.wave = V.STARTED, 0
        VOLUME.move(volume, V.RECONFIGURING)
        live = shapes(spec(session, volume)) == before and not needs_restart(changed)
        made = _live(session, volume) if live else _rolling(session, volume)
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
