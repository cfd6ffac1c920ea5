"""Volumes as users find them: by name, the ones a user may see, and the nodes an operation waits
for. Changing a volume is an operation (controlplane/services/volume_ops/)."""
from sqlmodel import Session, col, select

from contracts.states import NodeState
from controlplane.models import Cluster, Node, Task, Volume
from controlplane.services import pages, tasks
from controlplane.services.access import READ, Access
from controlplane.services.errors import NotFound
from controlplane.services.volume_specs import bricks_of, refs, spec

__all__ = ["bricks_of", "get", "list_visible", "page_visible", "refs", "spec", "waiting_for"]


def get(session: Session, access: Access, cluster: Cluster, name: str) -> Volume:
    vol = session.exec(select(Volume).where(col(Volume.cluster_id) == cluster.id, col(Volume.name) == name)).first()
    if vol is None or not access.sees_resource(cluster.id, refs(vol)):
        raise NotFound(f"volume {name!r} not found in cluster {cluster.name!r}: `kadalu volume list -c {cluster.name}`")
    return vol


def list_visible(session: Session, access: Access, cluster: Cluster) -> list[Volume]:
    vols = session.exec(select(Volume).where(col(Volume.cluster_id) == cluster.id).order_by(col(Volume.name)))
    return [v for v in vols if access.resource_rank(cluster.id, refs(v)) >= READ]


def page_visible(session: Session, access: Access, cluster: Cluster, limit: int,
                 cursor: str | None) -> tuple[list[Volume], str | None]:
    """One page of `list_visible` (controlplane/services/pages.py)."""
    stmt = select(Volume).where(col(Volume.cluster_id) == cluster.id)
    return pages.page(session, stmt, (col(Volume.name),), lambda v: (v.name,), limit, cursor,
                      lambda v: access.resource_rank(cluster.id, refs(v)) >= READ)


def waiting_for(session: Session, volume: Volume) -> list[str]:
    """Unreachable nodes holding unfinished tasks of the volume's current operation."""
    return waiting_for_each(session, [volume])[volume.id]


def waiting_for_each(session: Session, vols: list[Volume]) -> dict[str, list[str]]:
    """waiting_for of every volume given, by volume id: one query for a page of volumes, not one each."""
    out: dict[str, list[str]] = {v.id: [] for v in vols}
    by_operation: dict[str, str] = {v.operation_id: v.id for v in vols if v.operation_id}
    if not by_operation:
        return out
    stmt = (select(Task.operation_id, Node.name).join(Task, col(Task.node_id) == Node.id)
            .where(col(Task.operation_id).in_(list(by_operation)), col(Task.phase).in_(tasks.ACTIVE),
                   col(Node.state) == NodeState.UNREACHABLE)
            .distinct())
    for operation_id, name in session.exec(stmt):
        out[by_operation[operation_id or ""]].append(name)
    return {k: sorted(v) for k, v in out.items()}
