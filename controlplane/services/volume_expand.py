"""Expand: add whole sets of bricks to a volume (same validation as create), create them, start
them when the volume runs, then return the volume to the state it was in."""
from sqlmodel import Session

from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Brick, Cluster, Task, Volume
from controlplane.services import metadata, volume_plan, volumes
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Invalid
from controlplane.services.volume_states import transition


def expand(session: Session, access: Access, cluster: Cluster, volume: Volume, settings, raw_bricks: list[str],
           force: bool) -> list[Task]:
    access.require(WRITE, cluster.id, f"expand volume {volume.name!r}", volumes.refs(volume))
    if volume.state not in ("Created", "Started", "Stopped"):
        transition(volume, "Expanding")  # raises the state's own explanation
    lay = volume_plan.layout_of(volume)
    if not raw_bricks:
        raise Invalid(f"no bricks given: add whole sets of {lay.set_size} bricks as NODE:/PATH")
    planned = volume_plan.resolve_bricks(session, cluster, raw_bricks, lay, force)
    volume_plan.lock_nodes(session, {p.node.id for p in planned})
    try:
        volume_plan.check_not_used(session, planned)
        ports = volume_plan.allocate_ports(session, planned, settings.brick_port_base, settings.brick_port_last)
    except Exception:
        session.rollback()
        raise
    first = len(volumes.bricks_of(session, volume))
    new_bricks = [Brick(volume_id=volume.id, cluster_id=cluster.id, node_id=p.node.id, idx=first + i, path=p.path,
                        port=port, device_id=p.device_id)
                  for i, (p, port) in enumerate(zip(planned, ports, strict=True))]
    session.add_all(new_bricks)
    volume.resume_state = volume.state
    transition(volume, "Expanding")
    made = volumes.operation_tasks(session, volume, new_bricks, TaskKind.CREATE_BRICK, force=force)
    metadata.bump(session, cluster)
    session.commit()
    return made


def settle(session: Session, volume: Volume, ops: list[Task]) -> list[Task]:
    """Every task of the current expand step has finished: take the next step."""
    cluster = session.get(Cluster, volume.cluster_id)
    failures = [t for t in ops if t.phase == Phase.FAILED.value]
    if failures:
        transition(volume, "ExpandFailed", volumes.reasons(session, failures))
        session.add(volume)
        metadata.bump(session, cluster)
        return []
    if ops[0].kind == TaskKind.CREATE_BRICK and volume.resume_state == "Started":
        ids = {t.spec["brick_id"] for t in ops}
        new_bricks = [b for b in volumes.bricks_of(session, volume) if b.id in ids]
        made = volumes.operation_tasks(session, volume, new_bricks, TaskKind.START_BRICK)
        metadata.bump(session, cluster)
        return made
    transition(volume, volume.resume_state or "Started")
    session.add(volume)
    metadata.bump(session, cluster)
    return []

