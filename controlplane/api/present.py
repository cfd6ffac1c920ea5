"""Rows to public shapes (names instead of ids where a user reads them)."""
from sqlmodel import Session, col, select

from contracts.states import VOLUME_FAILED, volume_settled
from contracts.task_kinds import state_word
from controlplane.api import schemas
from controlplane.models import Alert, Brick, Cluster, Device, Grant, Node, Task, User, Volume
from controlplane.services import nodes, visibility, volume_health, volume_plan, volumes
from controlplane.services.access import Access


def grant(session: Session, g: Grant) -> schemas.GrantPublic:
    cluster = session.get(Cluster, g.cluster_id) if g.cluster_id else None
    name = None
    if g.scope == "node" and g.resource_id:
        node = session.get(Node, g.resource_id)
        name = node.name if node else g.resource_id
    elif g.scope == "device" and g.resource_id:
        dev = session.get(Device, g.resource_id)
        node = session.get(Node, dev.node_id) if dev else None
        name = f"{node.name}:{dev.path}" if dev and node else g.resource_id
    elif g.resource_id:
        name = g.resource_id
    return schemas.GrantPublic(id=g.id, role=g.role, scope=g.scope, cluster=cluster.name if cluster else None, name=name)


def user(session: Session, u: User) -> schemas.UserPublic:
    grants = session.exec(select(Grant).where(col(Grant.user_id) == u.id).order_by(col(Grant.created_at)))
    return schemas.UserPublic(id=u.id, username=u.username, created_at=u.created_at, grants=[grant(session, g) for g in grants])


def cluster(session: Session, access: Access, c: Cluster) -> schemas.ClusterPublic:
    """`node_count`: the nodes this user sees."""
    return schemas.ClusterPublic(
        id=c.id, name=c.name, created_at=c.created_at, node_count=visibility.node_count(session, access, c.id),
        metadata_version=c.metadata_version,
    )


def node(n: Node, device_count: int) -> schemas.NodePublic:
    return schemas.NodePublic(
        **n.model_dump(include={"id", "name", "address", "zone", "state", "hostname", "glusterfs_version", "agent_version",
                                "last_heartbeat_at", "registered_at"}),
        heartbeat_age_seconds=nodes.heartbeat_age(n), device_count=device_count,
    )


def _node_names(session: Session, cluster_id: str) -> dict[str, str]:
    return dict(session.exec(select(Node.id, Node.name).where(col(Node.cluster_id) == cluster_id)).all())


def devices(session: Session, cluster_id: str, devs: list[Device]) -> list[schemas.DevicePublic]:
    names = _node_names(session, cluster_id)
    return [
        schemas.DevicePublic(
            **d.model_dump(include={"id", "path", "kind", "state", "size_bytes", "free_bytes", "reason", "task_id",
                                    "created_at"}),
            node=names.get(d.node_id, d.node_id),
        )
        for d in devs
    ]


def tasks(session: Session, access: Access, cluster_id: str, rows: list[Task]) -> list[schemas.TaskPublic]:
    """Specs as `visibility.spec_for` shows them to this user: never the volume's credentials."""
    c = session.get(Cluster, cluster_id)
    names = _node_names(session, cluster_id)
    view = visibility.scope(access, cluster_id)
    return [
        schemas.TaskPublic(
            **t.model_dump(include={"id", "kind", "phase", "reason", "error", "result", "attempts", "created_at",
                                    "started_at", "finished_at"}),
            spec=visibility.spec_for(view, t),
            cluster=c.name if c else cluster_id, node=names.get(t.node_id, t.node_id), state=state_word(t.kind, t.phase),
        )
        for t in rows
    ]


def alerts(session: Session, cluster_id: str, rows: list[Alert]) -> list[schemas.AlertPublic]:
    c = session.get(Cluster, cluster_id)
    names = _node_names(session, cluster_id)
    volumes = dict(session.exec(select(Volume.id, Volume.name).where(col(Volume.cluster_id) == cluster_id)).all())
    return [
        schemas.AlertPublic(
            **a.model_dump(include={"id", "kind", "severity", "message", "created_at", "state", "last_seen_at",
                                    "resolved_at", "count"}),
            cluster=c.name if c else cluster_id, node=names.get(a.node_id) if a.node_id else None,
            volume=volumes.get(a.volume_id) if a.volume_id else None,
        )
        for a in rows
    ]


def volume(session: Session, v: Volume, message: str = "") -> schemas.VolumePublic:
    (shown,) = volume_list(session, [v], message)
    return shown


def volume_list(session: Session, vols: list[Volume], message: str = "") -> list[schemas.VolumePublic]:
    """Volumes of one cluster with their bricks: six queries for the whole page, not per volume."""
    if not vols:
        return []
    ids = [v.id for v in vols]
    bricks: dict[str, list[Brick]] = {i: [] for i in ids}
    for b in session.exec(select(Brick).where(col(Brick.volume_id).in_(ids)).order_by(col(Brick.idx))):
        bricks[b.volume_id].append(b)
    node_ids = sorted({b.node_id for bs in bricks.values() for b in bs})
    nodes_by_id = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(node_ids)))} if node_ids else {}
    states = {n.id: n.state for n in nodes_by_id.values()}
    c = session.get(Cluster, vols[0].cluster_id)
    waiting = volumes.waiting_for_each(session, vols)
    return [_volume(v, bricks[v.id], nodes_by_id, states, c.name if c else v.cluster_id, waiting[v.id], message)
            for v in vols]


def _volume(v: Volume, bricks: list[Brick], nodes_by_id: dict[str, Node], states: dict[str, str],
            cluster_name: str, waiting_for: list[str], message: str) -> schemas.VolumePublic:
    size = volume_plan.set_size(v)
    return schemas.VolumePublic(
        **v.model_dump(include={"id", "name", "type", "state", "replica_count", "arbiter_count", "disperse_count",
                                "redundancy_count", "reason", "created_at", "updated_at"}),
        cluster=cluster_name, health=volume_health.health(v, bricks, states),
        settled=volume_settled(v.state), failed=v.state in VOLUME_FAILED,
        brick_count=len(bricks), set_size=size, waiting_for=waiting_for, message=message,
        options={k: str(val) for k, val in v.options.items()},
        bricks=[
            schemas.BrickPublic(
                id=b.id, node=nodes_by_id[b.node_id].name, address=nodes_by_id[b.node_id].address, path=b.path,
                port=b.port, set=b.idx // size + 1, state=b.state, pid=b.pid,
                online=volume_health.brick_is_online(b, states), size_bytes=b.size_bytes, free_bytes=b.free_bytes,
                reported_at=b.reported_at,
            )
            for b in bricks
        ],
    )
