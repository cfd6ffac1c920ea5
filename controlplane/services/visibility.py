"""What one user may read of a cluster: which tasks, alerts and failures, how much of a task's
spec, and the counts that follow from it.

A read grant on the cluster (or on everything) shows all of it. Grants on single nodes, devices
or volumes show only what concerns them:
- tasks that ran on a granted node, tasks of a granted volume, device tasks of a granted device
  (a node grant covers the node's devices);
- alerts about a granted node or a granted volume;
- counts of the nodes, devices and volumes the user sees (the routes list the same ones).

Task specs carry the whole volume (every brick on every node, the volume's client credentials).
The credentials are removed for everyone. Someone who reads the volume (cluster-wide read or a
volume grant) sees the rest of it; someone who sees the task only through a node grant sees the
volume's bricks on the nodes they see, not the others."""
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, or_
from sqlmodel import Session, col, func, select

from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Alert, Cluster, Device, Node, Task, Volume
from controlplane.services.access import RANK, READ, Access
from controlplane.services.errors import Invalid, NotFound

DEVICE_KINDS = (TaskKind.ADD_DEVICE.value, TaskKind.REMOVE_DEVICE.value)
SECRET_SPEC_KEYS = frozenset({"auth_username", "auth_password"})


@dataclass
class Scope:
    """One user's view of one cluster."""

    cluster_id: str
    everything: bool
    nodes: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)

    def sees_node(self, node_id: str | None) -> bool:
        return self.everything or node_id in self.nodes

    def sees_volume(self, volume_id: str | None) -> bool:
        return self.everything or volume_id in self.volumes

    def sees_task(self, task: Task) -> bool:
        if self.everything or task.node_id in self.nodes or task.volume_id in self.volumes:
            return True
        return task.kind in DEVICE_KINDS and (task.spec or {}).get("device_id") in self.devices

    def sees_alert(self, alert: Alert) -> bool:
        return self.everything or alert.node_id in self.nodes or alert.volume_id in self.volumes

    def task_clause(self):
        """A SQL condition on Task: exact for nodes and volumes, a superset for device tasks
        (the device id sits in the spec); `sees_task` decides."""
        if self.everything:
            return col(Task.cluster_id) == self.cluster_id
        parts = []
        if self.nodes:
            parts.append(col(Task.node_id).in_(list(self.nodes)))
        if self.volumes:
            parts.append(col(Task.volume_id).in_(list(self.volumes)))
        if self.devices:
            parts.append(col(Task.kind).in_(DEVICE_KINDS))
        return and_(col(Task.cluster_id) == self.cluster_id, or_(*parts) if parts else false())

    def alert_clause(self):
        if self.everything:
            return col(Alert.cluster_id) == self.cluster_id
        parts = []
        if self.nodes:
            parts.append(col(Alert.node_id).in_(list(self.nodes)))
        if self.volumes:
            parts.append(col(Alert.volume_id).in_(list(self.volumes)))
        return and_(col(Alert.cluster_id) == self.cluster_id, or_(*parts) if parts else false())


def scope(access: Access, cluster_id: str) -> Scope:
    if access.cluster_rank(cluster_id) >= READ:
        return Scope(cluster_id, everything=True)
    out = Scope(cluster_id, everything=False)
    for g in access.grants:
        if g.cluster_id == cluster_id and g.resource_id and RANK.get(g.role, 0) >= READ:
            {"node": out.nodes, "device": out.devices, "volume": out.volumes}.get(g.scope, set()).add(g.resource_id)
    return out


# --- lists ---------------------------------------------------------------------------------------

def node(session: Session, access: Access, cluster: Cluster, name: str) -> Node:
    found = session.exec(select(Node).where(col(Node.cluster_id) == cluster.id, col(Node.name) == name)).first()
    if found is None or not scope(access, cluster.id).sees_node(found.id):
        raise NotFound(f"node {name!r} not found in cluster {cluster.name!r}: `kadalu node list -c {cluster.name}`")
    return found


def task(session: Session, access: Access, task_id: str) -> Task:
    found = session.get(Task, task_id)
    if found is None or not scope(access, found.cluster_id).sees_task(found):
        raise NotFound(f"task {task_id!r} not found: `kadalu task list -c CLUSTER` shows recent tasks")
    return found


def tasks(session: Session, access: Access, cluster_id: str, phase: str | None, node_id: str | None,
          limit: int) -> list[Task]:
    """The newest `limit` tasks the user sees, of one phase and/or one node if given."""
    view = scope(access, cluster_id)
    stmt = select(Task).where(view.task_clause())
    if phase:
        phase = phase.lower()
        if phase not in {p.value for p in Phase}:
            raise Invalid(f"unknown task state {phase!r}: use one of {', '.join(p.value for p in Phase)}")
        stmt = stmt.where(col(Task.phase) == phase)
    if node_id:
        stmt = stmt.where(col(Task.node_id) == node_id)
    out = []
    for task in session.exec(stmt.order_by(col(Task.created_at).desc())):
        if view.sees_task(task):
            out.append(task)
            if len(out) >= limit:
                break
    return out


def alerts(session: Session, access: Access, cluster_id: str, limit: int, state: str | None = None) -> list[Alert]:
    """The newest `limit` alerts the user sees; only firing (or resolved) ones if `state` says so."""
    stmt = select(Alert).where(scope(access, cluster_id).alert_clause())
    if state:
        stmt = stmt.where(col(Alert.state) == state)
    return list(session.exec(stmt.order_by(col(Alert.created_at).desc()).limit(limit)))


# --- task specs ------------------------------------------------------------------------------------

def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in SECRET_SPEC_KEYS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def spec_for(view: Scope, task: Task) -> dict[str, Any]:
    """The part of `task.spec` this view may read: never the volume's credentials; without read on
    the volume, only the volume's bricks on nodes the view sees."""
    spec = _without_secrets(task.spec or {})
    volume = spec.get("volume")
    if isinstance(volume, dict) and not view.sees_volume(task.volume_id or volume.get("id")):
        bricks = volume.get("bricks") or []
        volume["bricks"] = [b for b in bricks if isinstance(b, dict) and view.sees_node(b.get("node_id"))]
    return spec


# --- counts ----------------------------------------------------------------------------------------

def _node_where(view: Scope):
    where = col(Node.cluster_id) == view.cluster_id
    return where if view.everything else and_(where, col(Node.id).in_(list(view.nodes)))


def counts(session: Session, access: Access, cluster_id: str) -> dict:
    """Nodes by state, devices and volumes the user sees in the cluster (the same rows the node,
    device and volume lists show them)."""
    view = scope(access, cluster_id)
    device_where = col(Device.cluster_id) == cluster_id
    volume_where = col(Volume.cluster_id) == cluster_id
    if not view.everything:
        device_where = and_(device_where, or_(col(Device.node_id).in_(list(view.nodes)), col(Device.id).in_(list(view.devices))))
        volume_where = and_(volume_where, col(Volume.id).in_(list(view.volumes)))
    by_state = session.exec(select(Node.state, func.count()).where(_node_where(view)).group_by(Node.state)).all()
    return {
        "nodes_by_state": dict(by_state),
        "device_count": session.exec(select(func.count()).select_from(Device).where(device_where)).one(),
        "volume_count": session.exec(select(func.count()).select_from(Volume).where(volume_where)).one(),
    }


def node_count(session: Session, access: Access, cluster_id: str) -> int:
    return session.exec(select(func.count()).select_from(Node).where(_node_where(scope(access, cluster_id)))).one()
