"""Nodes: agent registration, node credentials, listing and removal."""
import hmac
import ipaddress
import re
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from controlplane import security
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Device, Node, Task
from controlplane.services import metadata
from controlplane.services.access import MANAGE, WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound, Unauthorized
from controlplane.services.names import check_name

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")


def check_address(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        pass
    if not HOSTNAME_RE.fullmatch(address or ""):
        raise Invalid(f"invalid node address {address!r}: give an IP address or a DNS name the clients can reach")
    return address.lower()


def register(session: Session, cluster: Cluster, name: str, address: str, facts: dict) -> tuple[Node, list[Task]]:
    check_name("node", name)
    address = check_address(address)
    nodes = list(session.exec(select(Node).where(Node.cluster_id == cluster.id)))
    node = next((n for n in nodes if n.name == name), None)
    if node is not None and node.address != address:
        raise Conflict(
            f"node name {name!r} is already registered in cluster {cluster.name!r} with address {node.address}: "
            "start the agent with another --name, or remove the old node first (`kadalu node remove`)"
        )
    other = next((n for n in nodes if n.address == address and n.name != name), None)
    if other is not None:
        raise Conflict(
            f"address {address} already belongs to node {other.name!r} in cluster {cluster.name!r}: "
            f"start the agent with --name {other.name}, or give this node its own address"
        )
    created = node is None
    if created:
        node = Node(cluster_id=cluster.id, name=name, address=address)
    for key in ("hostname", "glusterfs_version", "agent_version"):
        if facts.get(key):
            setattr(node, key, str(facts[key])[:255])
    if facts.get("zone"):
        node.zone = check_name("zone", facts["zone"])
    session.add(node)
    try:
        if created:
            metadata.bump(session, cluster)
        requeued = _requeue_running(session, node)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"node {name!r} was registered at the same moment by another agent: retry") from None
    return node, requeued


def _requeue_running(session: Session, node: Node) -> list[Task]:
    """An agent that (re)registers has restarted: what it was running is lost; run it again."""
    running = list(session.exec(select(Task).where(Task.node_id == node.id, Task.phase == "running")))
    for task in running:
        task.phase = "queued"
        session.add(task)
    return running


def secret_for(secret_key: str, node: Node) -> str:
    return security.node_secret(secret_key, node.id, node.secret_generation)


def authenticate(session: Session, secret_key: str, node_id: str, secret: str) -> Node:
    node = session.get(Node, node_id)
    if node is None or not hmac.compare_digest(secret_for(secret_key, node), secret):
        raise Unauthorized("node credentials are not valid: restart the agent so that it registers again")
    return node


def get(session: Session, cluster: Cluster, name: str) -> Node:
    node = session.exec(select(Node).where(Node.cluster_id == cluster.id, Node.name == name)).first()
    if node is None:
        raise NotFound(f"node {name!r} not found in cluster {cluster.name!r}: `kadalu node list -c {cluster.name}`")
    return node


def list_nodes(session: Session, cluster: Cluster) -> list[Node]:
    return list(session.exec(select(Node).where(Node.cluster_id == cluster.id).order_by(Node.name)))


def device_counts(session: Session, cluster: Cluster) -> dict[str, int]:
    stmt = select(Device.node_id, func.count()).where(Device.cluster_id == cluster.id).group_by(Device.node_id)
    return dict(session.exec(stmt).all())


def heartbeat_age(node: Node, now: datetime | None = None) -> float | None:
    if node.last_heartbeat_at is None:
        return None
    return max(0.0, ((now or utcnow()) - node.last_heartbeat_at).total_seconds())


def remove(session: Session, access: Access, cluster: Cluster, node: Node) -> None:
    access.require(MANAGE, cluster.id, f"remove node {node.name!r}", (("node", node.id),))
    if session.exec(select(func.count()).select_from(Device).where(Device.node_id == node.id)).one():
        raise Conflict(f"node {node.name!r} still has devices: remove them first (`kadalu device remove`)")
    if session.exec(select(func.count()).select_from(Brick).where(Brick.node_id == node.id)).one():
        raise Conflict(f"node {node.name!r} still holds bricks of volumes: delete those volumes first")
    session.delete(node)
    metadata.bump(session, cluster)
    session.commit()


def set_zone(session: Session, access: Access, cluster: Cluster, node: Node, zone: str) -> Node:
    access.require(WRITE, cluster.id, f"label node {node.name!r}", (("node", node.id),))
    node.zone = check_name("zone", zone) if zone else ""
    session.add(node)
    session.commit()
    return node
