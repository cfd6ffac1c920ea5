"""Volume options: validated against the table derived from the installed GlusterFS, stored,
and applied. Brick and self-heal graph changes restart the bricks of a Started volume one brick
of every set at a time (a replica set keeps quorum, so the volume stays writable); client graph
changes show in the volfile endpoint for the next mount."""
import optiontable
from sqlmodel import Session, select

from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Cluster, Task, Volume
from controlplane.db import utcnow
from controlplane.services import metadata, tasks, volume_health, volume_plan, volumes
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Invalid
from controlplane.services.volume_states import transition

MAX_OPTIONS = 64
ROLLING_SETTLE_SECONDS = 4.0  # clients retry a lost brick every 3 s


def validated(options: dict[str, str]) -> dict[str, str]:
    if len(options) > MAX_OPTIONS:
        raise Invalid(f"{len(options)} options in one request: send at most {MAX_OPTIONS}")
    out = {}
    for name, value in options.items():
        try:
            out[name] = optiontable.validate(name, str(value))
        except optiontable.OptionError as exc:
            raise Invalid(exc.message) from None
    return out


def _restarts_bricks(names: list[str]) -> bool:
    return any({"brick", "shd"} & set(optiontable.graphs_of(n)) for n in names)


def change(session: Session, access: Access, volume: Volume, set_: dict[str, str], reset: list[str]) -> list[Task]:
    """Set and/or reset options; returns the first wave of brick restarts when the bricks need one."""
    access.require(WRITE, volume.cluster_id, f"change options of volume {volume.name!r}", volumes.refs(volume))
    values = validated(set_)
    for name in reset:
        if name not in optiontable.load():
            validated({name: ""})  # raises the unknown-option message with suggestions
    if volume.state in ("Creating", "Starting", "Stopping", "Deleting", "Expanding", "Reconfiguring"):
        transition(volume, "Reconfiguring")  # raises: in progress, wait
    options = {k: v for k, v in volume.options.items() if k not in reset}
    options.update(values)
    changed = [n for n in {*values, *reset} if volume.options.get(n) != options.get(n)]
    volume.options = options
    session.add(volume)
    cluster = session.get(Cluster, volume.cluster_id)
    made: list[Task] = []
    if changed and volume.state in ("Started", "ReconfigureFailed") and _restarts_bricks(changed):
        volume.resume_state, volume.wave = "Started", 0
        transition(volume, "Reconfiguring")
        made = _wave(session, volume)
    metadata.bump(session, cluster)
    session.commit()
    return made


def _wave(session: Session, volume: Volume) -> list[Task]:
    size = volume_plan.set_size(volume)
    bricks = [b for b in volumes.bricks_of(session, volume) if b.idx % size == volume.wave]
    # the last wave needs no pause: nothing goes down after it
    settle = ROLLING_SETTLE_SECONDS if volume.wave + 1 < volume_plan.set_size(volume) else 0.0
    return volumes.operation_tasks(session, volume, bricks, TaskKind.RESTART_BRICK, settle_seconds=settle)


def settle(session: Session, volume: Volume, ops: list[Task]) -> list[Task]:
    """A wave finished: the next brick of every set, or back to Started."""
    cluster = session.get(Cluster, volume.cluster_id)
    failures = [t for t in ops if t.phase == Phase.FAILED.value]
    if failures:
        transition(volume, "ReconfigureFailed", volumes.reasons(session, failures))
    elif volume.wave + 1 < volume_plan.set_size(volume):
        # The next brick of each set goes down only once self-heal has caught up with this wave:
        # otherwise two bricks of a set could each miss changes and leave no good copy to read.
        volume.wave += 1
        volume.wave_waits_since = utcnow()
        volume.reason = "waiting for self-heal to finish before restarting the next brick of each set"
        session.add(volume)
        return []
    else:
        transition(volume, volume.resume_state or "Started")
    session.add(volume)
    metadata.bump(session, cluster)
    return []


def advance_waiting_waves(session: Session, sender) -> int:
    """Beat: start the next wave of every volume whose bricks all run again and report no pending
    heal since the last wave finished."""
    started = 0
    waiting = session.exec(select(Volume).where(Volume.state == "Reconfiguring", Volume.wave_waits_since.is_not(None)))
    for volume in waiting.all():
        bricks = volumes.bricks_of(session, volume)
        states = volume_health.node_states(session, volume.cluster_id)
        fresh = [b for b in bricks if b.reported_at and b.reported_at > volume.wave_waits_since]
        if len(fresh) < len(bricks) or not all(volume_health.brick_is_online(b, states) for b in bricks):
            continue
        pending = sum(b.heal_pending for b in bricks)
        if pending:
            volume.reason = f"waiting for self-heal: {pending} entries pending before the next brick of each set restarts"
            session.add(volume)
            session.commit()
            continue
        volume.wave_waits_since, volume.reason = None, ""
        made = _wave(session, volume)
        session.commit()
        tasks.send(session, sender, made)
        started += 1
    return started


def listing(volume: Volume, name: str | None) -> list[dict]:
    names = [name] if name else sorted(optiontable.load())
    rows = []
    for n in names:
        try:
            entry = optiontable.describe(n)
        except optiontable.OptionError as exc:
            raise Invalid(exc.message) from None
        value = volume.options.get(entry["name"])
        rows.append({
            "name": entry["name"], "value": value if value is not None else entry.get("default"),
            "default": entry.get("default"), "changed": value is not None, "type": entry.get("type"),
            "accepts": entry.get("accepts", ""), "graphs": entry.get("graphs", []),
            "description": entry.get("description", ""),
        })
    return rows
