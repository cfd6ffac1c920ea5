"""Volumes: create, start, stop, delete as operations of per-brick tasks; the volume's state
follows when every task of the current operation has finished."""
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from contracts.task_specs import BrickTaskSpec
from contracts.task_kinds import Phase, TaskKind
from contracts.volume_spec import BrickSpec, VolumeSpec
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Node, Task, Volume
from controlplane.services import metadata, provisioning, tasks, volume_plan
from controlplane.services.access import READ, WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.names import check_name
from controlplane.services.volume_states import transition

# operation state -> (brick task kind, done state, failed state)
OPERATIONS = {
    "Creating": (TaskKind.CREATE_BRICK, "Created", "CreateFailed"),
    "Starting": (TaskKind.START_BRICK, "Started", "StartFailed"),
    "Stopping": (TaskKind.STOP_BRICK, "Stopped", "StopFailed"),
    "Deleting": (TaskKind.DELETE_BRICK, "Deleted", "DeleteFailed"),
}
BRICK_KINDS = frozenset([*(kind for kind, _, _ in OPERATIONS.values()), TaskKind.RESTART_BRICK])


def refs(volume: Volume) -> tuple[tuple[str, str], ...]:
    return (("volume", volume.id),)


def get(session: Session, access: Access, cluster: Cluster, name: str) -> Volume:
    vol = session.exec(select(Volume).where(Volume.cluster_id == cluster.id, Volume.name == name)).first()
    if vol is None or not access.sees_resource(cluster.id, refs(vol)):
        raise NotFound(f"volume {name!r} not found in cluster {cluster.name!r}: `kadalu volume list -c {cluster.name}`")
    return vol


def list_visible(session: Session, access: Access, cluster: Cluster) -> list[Volume]:
    vols = session.exec(select(Volume).where(Volume.cluster_id == cluster.id).order_by(Volume.name))
    return [v for v in vols if access.resource_rank(cluster.id, refs(v)) >= READ]


def bricks_of(session: Session, volume: Volume) -> list[Brick]:
    return list(session.exec(select(Brick).where(Brick.volume_id == volume.id).order_by(Brick.idx)))


def spec(session: Session, volume: Volume, bricks: list[Brick] | None = None) -> VolumeSpec:
    bricks = bricks if bricks is not None else bricks_of(session, volume)
    nodes = {n.id: n for n in session.exec(select(Node).where(Node.cluster_id == volume.cluster_id))}
    return VolumeSpec(
        id=volume.id, name=volume.name, type=volume.type, replica_count=volume.replica_count,
        arbiter_count=volume.arbiter_count, disperse_count=volume.disperse_count,
        redundancy_count=volume.redundancy_count, options={k: str(v) for k, v in volume.options.items()},
        auth_username=volume.auth_username, auth_password=volume.auth_password,
        bricks=[BrickSpec(id=b.id, node_id=b.node_id, node_name=nodes[b.node_id].name, address=nodes[b.node_id].address,
                          path=b.path, port=b.port) for b in bricks],
    )


def create(session: Session, access: Access, cluster: Cluster, settings, name: str, raw_bricks: list[str],
           replica: int | None, arbiter: int | None, disperse: int | None, redundancy: int | None,
           force: bool, start: bool, size: str | None = None, distribute: int | None = None,
           options: dict[str, str] | None = None) -> tuple[Volume, list[Task]]:
    """Create from the bricks given, or with `size`, from bricks chosen on registered devices."""
    access.require(WRITE, cluster.id, f"create volume {name!r} in cluster {cluster.name!r}")
    check_name("volume", name)
    lay = volume_plan.layout(replica, arbiter, disperse, redundancy)
    provisioned = None
    if size is not None:
        if raw_bricks:
            raise Invalid("give either bricks or --size (bricks chosen from registered devices), not both")
        provisioned = provisioning.plan(session, cluster, name, size, lay, distribute)
        raw_bricks = [f"{b.node_name}:{b.path}" for b in provisioned.bricks]
    elif distribute is not None:
        raise Invalid("--distribute (the number of sets) goes with --size; with bricks, the count of bricks sets it")
    planned = volume_plan.resolve_bricks(session, cluster, raw_bricks, lay, force)
    volume_plan.lock_nodes(session, {p.node.id for p in planned})
    if session.exec(select(Volume).where(Volume.cluster_id == cluster.id, Volume.name == name)).first():
        session.rollback()
        raise Conflict(f"volume {name!r} already exists in cluster {cluster.name!r}: pick another name")
    try:
        volume_plan.check_not_used(session, planned)
        ports = volume_plan.allocate_ports(session, planned, settings.brick_port_base, settings.brick_port_last)
    except Exception:
        session.rollback()
        raise
    volume = Volume(id=str(uuid.uuid4()), cluster_id=cluster.id, name=name, type=lay.type,
                    replica_count=lay.replica_count, arbiter_count=lay.arbiter_count, disperse_count=lay.disperse_count,
                    redundancy_count=lay.redundancy_count, state="Creating", start_after_create=start)
    session.add(volume)
    session.flush()  # the volume row first: bricks refer to it
    bricks = [Brick(volume_id=volume.id, cluster_id=cluster.id, node_id=p.node.id, idx=i, path=p.path, port=port,
                    device_id=p.device_id)
              for i, (p, port) in enumerate(zip(planned, ports, strict=True))]
    session.add_all(bricks)
    if provisioned is not None:
        provisioning.reserve(session, provisioned, bricks)
    if options:
        from controlplane.services.volume_options import validated

        volume.options = validated(options)
    try:
        new = operation_tasks(session, volume, bricks, TaskKind.CREATE_BRICK, force=force)
        metadata.bump(session, cluster)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"volume {name!r} or one of its bricks/ports was taken by a concurrent request: retry") from None
    return volume, new


def operation_tasks(session: Session, volume: Volume, bricks: list[Brick], kind: str, purge: bool = False,
                    force: bool = False, settle_seconds: float = 0.0) -> list[Task]:
    volume.operation_id = str(uuid.uuid4())
    session.flush()
    vspec = spec(session, volume)  # the whole volume: volfiles (self-heal, client) need every brick
    made = []
    for brick in bricks:
        node = session.get(Node, brick.node_id)
        body = BrickTaskSpec(volume=vspec, brick_id=brick.id, purge=purge, force=force,
                             settle_seconds=settle_seconds).model_dump()
        task = tasks.new_task(session, node, kind, body)
        task.volume_id, task.operation_id = volume.id, volume.operation_id
        made.append(task)
    session.add(volume)
    return made


def begin(session: Session, access: Access, volume: Volume, to: str, purge: bool = False, force: bool = False) -> list[Task]:
    """Start an operation: check the arrow, write the in-progress state and the tasks, commit."""
    access.require(WRITE, volume.cluster_id, f"{to.lower().removesuffix('ing')} volume {volume.name!r}", refs(volume))
    return _begin(session, volume, to, purge, force)


def _begin(session: Session, volume: Volume, to: str, purge: bool = False, force: bool = False) -> list[Task]:
    transition(volume, to)
    kind = OPERATIONS[to][0]
    bricks = bricks_of(session, volume)
    new = operation_tasks(session, volume, bricks, kind, purge=purge, force=force)
    metadata.bump(session, session.get(Cluster, volume.cluster_id))
    session.commit()
    return new


def brick_task_finished(session: Session, task: Task, data: dict) -> list[Task]:
    """Apply one brick task's outcome; when it was the last of its operation, settle the volume."""
    brick = session.get(Brick, task.spec.get("brick_id"))
    if brick is not None:
        if task.phase == Phase.DONE.value:
            brick.state = {TaskKind.CREATE_BRICK: "Created", TaskKind.START_BRICK: "Started",
                           TaskKind.RESTART_BRICK: "Started", TaskKind.STOP_BRICK: "Stopped",
                           TaskKind.DELETE_BRICK: "Deleted"}[TaskKind(task.kind)]
            if task.kind in (TaskKind.START_BRICK, TaskKind.RESTART_BRICK):
                brick.pid, brick.online, brick.reported_at = data.get("pid"), True, utcnow()
            elif task.kind == TaskKind.STOP_BRICK:
                brick.pid, brick.online = None, False
        else:
            brick.state = "Failed"
        session.add(brick)
    volume = session.get(Volume, task.volume_id) if task.volume_id else None
    if volume is None or volume.operation_id != task.operation_id:
        return []  # a task of an older operation: the volume has moved on
    ops = session.exec(select(Task).where(Task.operation_id == task.operation_id)).all()
    if any(t.phase not in (Phase.DONE.value, Phase.FAILED.value) for t in ops):
        return []
    if volume.state == "Expanding":
        from controlplane.services import volume_expand  # it builds on this module

        return volume_expand.settle(session, volume, ops)
    if volume.state == "Reconfiguring":
        from controlplane.services import volume_options  # it builds on this module

        return volume_options.settle(session, volume, ops)
    _, done, failed = OPERATIONS[volume.state]
    failures = [t for t in ops if t.phase == Phase.FAILED.value]
    cluster = session.get(Cluster, volume.cluster_id)
    if failures:
        transition(volume, failed, reasons(session, failures))
    elif done == "Deleted":
        provisioning.release(session, bricks_of(session, volume))
        session.delete(volume)
        metadata.bump(session, cluster)
        return []
    else:
        transition(volume, done)
    session.add(volume)
    metadata.bump(session, cluster)
    if done == "Created" and not failures and volume.start_after_create:
        session.flush()
        return _begin_in_worker(session, volume)
    return []


def _begin_in_worker(session: Session, volume: Volume) -> list[Task]:
    transition(volume, "Starting")
    new = operation_tasks(session, volume, bricks_of(session, volume), TaskKind.START_BRICK)
    metadata.bump(session, session.get(Cluster, volume.cluster_id))
    return new


def reasons(session: Session, failed: list[Task]) -> str:
    names = {n.id: n.name for n in session.exec(select(Node).where(Node.id.in_([t.node_id for t in failed])))}
    return "; ".join(f"{names.get(t.node_id, t.node_id)}: {t.reason}" for t in failed)


def waiting_for(session: Session, volume: Volume) -> list[str]:
    """Unreachable nodes holding unfinished tasks of the volume's current operation."""
    if not volume.operation_id:
        return []
    stmt = (select(Node.name).join(Task, Task.node_id == Node.id)
            .where(Task.operation_id == volume.operation_id, Task.phase.in_(tasks.ACTIVE), Node.state == "Unreachable")
            .distinct())
    return sorted(session.exec(stmt).all())
