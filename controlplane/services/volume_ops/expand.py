"""Expand: add whole sets of bricks (validated as at create), create them, start them when the
volume runs, then return the volume to the state it was in (`resume_state`).

A failed expand (ExpandFailed) leaves the new bricks in the volume, marked by `expand_from` (the
index of the first one). It is either retried, which sends again only the tasks that failed and
then goes on, or aborted, which deletes the new bricks' gluster state (their data stays), drops
them from the volume and returns it to where it was.

Without bricks, the new sets are chosen from registered devices (`provisioning_expand`: one set, or
`sets`, or enough sets for `size`) and their space reserved in the same transaction; `plan` is the
dry run of that."""
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from contracts.states import VolumeState
from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Brick, Cluster, Task, Volume
from controlplane.services import provisioning, provisioning_expand, volume_plan
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict, Invalid
from controlplane.services.provisioning_plan import Plan
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_ops.steps import Operation, failed, reasons, settle_to, step
from controlplane.services.volume_specs import bricks_of

V = VolumeState


@dataclass(frozen=True)
class ExpandRequest:
    bricks: list[str] = field(default_factory=list)  # NODE:/PATH, whole sets; or none: chosen from devices
    force: bool = False
    sets: int | None = None  # without bricks: this many sets (default 1)
    size: str | None = None  # without bricks: capacity to add ("+100GiB"), as sets of the volume's brick size


def _new_bricks(session: Session, volume: Volume) -> list[Brick]:
    return [b for b in bricks_of(session, volume) if volume.expand_from is not None and b.idx >= volume.expand_from]


def _finish(session: Session, volume: Volume) -> None:
    volume.expand_from = None
    settle_to(session, volume, volume.resume_state or V.STARTED)


def _settle_expand(session: Session, volume: Volume, done: list[Task]) -> None:
    """Every task of the current step has finished: take the next step."""
    bad = failed(done)
    if bad:
        settle_to(session, volume, V.EXPAND_FAILED, reasons(session, bad))
        return
    if done[0].kind == TaskKind.CREATE_BRICK and volume.resume_state == V.STARTED:
        step(session, volume, _new_bricks(session, volume), TaskKind.START_BRICK)
        return
    _finish(session, volume)


def _settle_abort(session: Session, volume: Volume, done: list[Task]) -> None:
    bad = failed(done)
    if bad:
        settle_to(session, volume, V.EXPAND_FAILED, "abort failed: " + reasons(session, bad))
        return
    gone = _new_bricks(session, volume)
    provisioning.release(session, gone)
    for brick in gone:
        session.delete(brick)
    session.flush()
    _finish(session, volume)


EXPAND = Operation(V.EXPANDING, _settle_expand)
ABORT = Operation(V.ABORTING_EXPAND, _settle_abort)


def _precheck(access: Access, volume: Volume, request: ExpandRequest) -> None:
    EXPAND.check_access(access, volume)
    if not request.bricks:  # spends space on any device of the cluster, as `volume create --size` does
        access.require(WRITE, volume.cluster_id, f"choose the new bricks of volume {volume.name!r} from the cluster's "
                       "devices (a grant on the volume alone allows an expand with the bricks given)")
    if volume.state == V.EXPAND_FAILED:
        raise Conflict(f"volume {volume.name!r} is ExpandFailed: retry that expand (`kadalu volume expand --retry`) "
                       "or abort it (`kadalu volume expand --abort`) before adding other bricks")
    VOLUME.check(volume, V.EXPANDING)
    if request.bricks and (request.sets is not None or request.size is not None):
        raise Invalid("give either the new `bricks` or `sets`/`size` (bricks chosen from registered devices), not both")


def plan(session: Session, *, access: Access, cluster: Cluster, volume: Volume, request: ExpandRequest) -> Plan:
    """The dry run of an expand without bricks: where the new sets would go. Nothing is stored."""
    _precheck(access, volume, request)
    if request.bricks:
        raise Invalid("a plan is for an expand without bricks: leave `bricks` out (the new sets are chosen from "
                      "registered devices)")
    try:
        return provisioning_expand.plan(session, cluster, volume, request.sets, request.size)
    finally:
        session.rollback()  # releases the planning lock; nothing was written


def expand(session: Session, *, access: Access, cluster: Cluster, volume: Volume, request: ExpandRequest,
           port_base: int, port_last: int) -> list[Task]:
    if session.get_bind().dialect.name != "sqlite":  # a second expand of this volume waits here, then sees Expanding
        session.refresh(volume, with_for_update=True)
    _precheck(access, volume, request)
    lay = volume_plan.layout_of(volume)
    provisioned, raw = None, request.bricks
    if not raw:
        try:
            provisioned = provisioning_expand.plan(session, cluster, volume, request.sets, request.size)
            session.refresh(volume)  # under the planning lock: a concurrent expand has committed by now
            VOLUME.check(volume, V.EXPANDING)
        except Exception:
            session.rollback()
            raise
        raw = [f"{b.node_name}:{b.path}" for b in provisioned.bricks]
    planned = volume_plan.resolve_bricks(session, cluster, raw, lay, request.force)
    volume_plan.lock_nodes(session, {p.node.id for p in planned})
    try:
        session.refresh(volume)  # SQLite: under the write lock lock_nodes took, a concurrent expand has committed
        VOLUME.check(volume, V.EXPANDING)
        volume_plan.check_not_used(session, planned)
        ports = volume_plan.allocate_ports(session, planned, port_base, port_last)
    except Exception:
        session.rollback()
        raise
    first = len(bricks_of(session, volume))
    new_bricks = [Brick(volume_id=volume.id, cluster_id=cluster.id, node_id=p.node.id, idx=first + i, path=p.path,
                        port=port, device_id=p.device_id)
                  for i, (p, port) in enumerate(zip(planned, ports, strict=True))]
    session.add_all(new_bricks)
    if provisioned is not None:
        provisioning.reserve(session, provisioned, new_bricks)
    volume.resume_state, volume.expand_from = volume.state, first
    VOLUME.move(volume, V.EXPANDING)
    made = step(session, volume, new_bricks, TaskKind.CREATE_BRICK, force=request.force)
    session.commit()
    return made


def retry(session: Session, *, access: Access, volume: Volume) -> list[Task]:
    """Send again the tasks of the failed step that failed; the step's other bricks are done."""
    EXPAND.check_access(access, volume)
    if volume.state != V.EXPAND_FAILED or volume.expand_from is None:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: only a failed expand (ExpandFailed) is retried")
    last = list(session.exec(select(Task).where(col(Task.operation_id) == volume.operation_id)))
    again = {t.spec["brick_id"] for t in last if t.phase == Phase.FAILED.value}
    kind = TaskKind(last[0].kind) if last else TaskKind.CREATE_BRICK
    if kind not in (TaskKind.CREATE_BRICK, TaskKind.START_BRICK):  # the abort's DELETE_BRICK failed: start over
        kind, again = TaskKind.CREATE_BRICK, {b.id for b in _new_bricks(session, volume)}
    bricks = [b for b in _new_bricks(session, volume) if b.id in again or not again]
    VOLUME.move(volume, V.EXPANDING, "")
    force = any(t.spec.get("force") for t in last)
    made = step(session, volume, bricks, kind, force=force)
    session.commit()
    return made


def abort(session: Session, *, access: Access, volume: Volume) -> list[Task]:
    """Take the bricks of a failed expand out again: DELETE_BRICK (data kept) on each, then drop them."""
    ABORT.check(access, volume)
    if volume.expand_from is None:
        raise Conflict(f"volume {volume.name!r} has no pending expand to abort")
    VOLUME.move(volume, V.ABORTING_EXPAND, "")
    made = step(session, volume, _new_bricks(session, volume), TaskKind.DELETE_BRICK)
    session.commit()
    return made

