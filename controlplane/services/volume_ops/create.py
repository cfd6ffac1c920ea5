"""Create: plan the bricks (given, or chosen from registered devices for a size), write the volume
and its bricks, and a CREATE_BRICK on every brick; when all are created, start it (unless asked not
to)."""
import uuid
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from controlplane.models import Brick, Cluster, Task, Volume
from controlplane.services import provisioning, volume_plan
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict, Invalid
from controlplane.services.names import check_name
from controlplane.services.volume_ops.lifecycle import begin_start
from controlplane.services.volume_ops.steps import Operation, failed, reasons, settle_to, step
from controlplane.services.volume_options import check_combination, validated

V = VolumeState


@dataclass(frozen=True)
class CreateRequest:
    name: str
    bricks: list[str] = field(default_factory=list)  # NODE:/PATH, in set order; or empty with `size`
    replica: int | None = None
    arbiter: int | None = None
    disperse: int | None = None
    redundancy: int | None = None
    force: bool = False  # two bricks of a set on one node; a non-empty directory as a brick
    start: bool = True
    size: str | None = None  # bricks chosen from registered devices
    distribute: int | None = None  # with `size`: the number of sets
    options: dict[str, str] = field(default_factory=dict)


def _settle_create(session: Session, volume: Volume, done: list[Task]) -> None:
    bad = failed(done)
    if bad:
        settle_to(session, volume, V.CREATE_FAILED, reasons(session, bad))
        return
    settle_to(session, volume, V.CREATED)
    if volume.start_after_create:
        begin_start(session, volume)


CREATE = Operation(V.CREATING, _settle_create)


def create(session: Session, *, access: Access, cluster: Cluster, request: CreateRequest, port_base: int,
           port_last: int) -> tuple[Volume, list[Task]]:
    """Create from the bricks given, or with `size`, from bricks chosen on registered devices."""
    r = request
    access.require(WRITE, cluster.id, f"create volume {r.name!r} in cluster {cluster.name!r}")
    check_name("volume", r.name)
    lay = volume_plan.layout(r.replica, r.arbiter, r.disperse, r.redundancy)
    provisioned, raw_bricks = None, r.bricks
    if r.size is not None:
        if raw_bricks:
            raise Invalid("give either `bricks` or `size` (bricks chosen from registered devices), not both")
        provisioned = provisioning.plan(session, cluster, r.name, r.size, lay, r.distribute)
        raw_bricks = [f"{b.node_name}:{b.path}" for b in provisioned.bricks]
    elif r.distribute is not None:
        raise Invalid("`distribute` (the number of sets) goes with `size`; with `bricks`, their count sets it")
    options = validated(r.options) if r.options else {}
    check_combination(options)
    planned = volume_plan.resolve_bricks(session, cluster, raw_bricks, lay, r.force)
    volume_plan.lock_nodes(session, {p.node.id for p in planned})
    if session.exec(select(Volume).where(col(Volume.cluster_id) == cluster.id, col(Volume.name) == r.name)).first():
        session.rollback()
        raise Conflict(f"volume {r.name!r} already exists in cluster {cluster.name!r}: pick another name")
    try:
        volume_plan.check_not_used(session, planned)
        ports = volume_plan.allocate_ports(session, planned, port_base, port_last)
    except Exception:
        session.rollback()
        raise
    volume = Volume(id=str(uuid.uuid4()), cluster_id=cluster.id, name=r.name, type=lay.type,
                    replica_count=lay.replica_count, arbiter_count=lay.arbiter_count, disperse_count=lay.disperse_count,
                    redundancy_count=lay.redundancy_count, state=V.CREATING, start_after_create=r.start, options=options)
    session.add(volume)
    session.flush()  # the volume row first: bricks refer to it
    bricks = [Brick(volume_id=volume.id, cluster_id=cluster.id, node_id=p.node.id, idx=i, path=p.path, port=port,
                    device_id=p.device_id)
              for i, (p, port) in enumerate(zip(planned, ports, strict=True))]
    session.add_all(bricks)
    if provisioned is not None:
        provisioning.reserve(session, provisioned, bricks)
    try:
        made = step(session, volume, bricks, TaskKind.CREATE_BRICK, force=r.force)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"volume {r.name!r} or one of its bricks/ports was taken by a concurrent request: retry") from None
    return volume, made
