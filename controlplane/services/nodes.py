"""Nodes: agent registration, node credentials, listing and removal."""
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from contracts import checks as contract_checks
from contracts.task_kinds import Phase
from controlplane import security
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Device, Node, Task
from controlplane.services import alerts, clusters, metadata, tasks
from controlplane.services.access import MANAGE, WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound, Unauthorized
from controlplane.services.names import check_name


def check_address(address: str) -> str:
    try:
        return contract_checks.check_address(address)
    except ValueError:
        raise Invalid(f"invalid node address {address!r}: give an IP address or a DNS name the clients can reach") from None


@dataclass
class Registration:
    cluster: Cluster
    node: Node
    requeued: list[Task]
    created: bool


def _proven(session: Session, secret_key: str, node_id: str, secret: str) -> Node:
    """The node whose credentials these are: its current secret, or the one before it (an agent whose
    registration answer was lost keeps the previous one; it is retired by this registration)."""
    node = session.get(Node, node_id) if contract_checks.is_uuid(node_id) else None
    if node is None or not any(
        hmac.compare_digest(security.node_secret(secret_key, node.id, gen), secret)
        for gen in (node.secret_generation, node.secret_generation - 1) if gen >= 1
    ):
        raise Unauthorized("the node credentials sent with the registration are not valid: if this node lost its "
                           "agent state, an admin runs `kadalu node allow-rejoin` and the agent registers again "
                           "with the join token")
    return node


def register(session: Session, secret_key: str, *, name: str, address: str, facts: dict,
             join_token: str | None = None, node_id: str | None = None, node_secret: str | None = None) -> Registration:
    """Register a new node (join token), or register again a node that proves it is that node (its
    credentials) or that an admin let rejoin. Every registration of an existing node rotates its
    secret: the old one stops working at once. Refusals say nothing about other nodes."""
    check_name("node", name)
    address = check_address(address)
    proven = None
    if node_id and node_secret:
        try:
            proven = _proven(session, secret_key, node_id, node_secret)
        except Unauthorized:
            if not join_token:
                raise
            # credentials of another server key (a control plane restored without it: docs/recovery.md): the
            # join token decides, and an existing name still needs an admin's (or the restore's) allow-rejoin
    cluster: Cluster | None = None
    if proven is not None:
        cluster = session.get(Cluster, proven.cluster_id)
    elif join_token:
        cluster = clusters.get_by_join_token(session, join_token)
    else:
        raise Unauthorized("registration needs the cluster's join token (KADALU_JOIN_TOKEN, shown by `kadalu cluster add`)")
    assert cluster is not None  # a node row goes with its cluster (ON DELETE CASCADE)
    node = session.exec(select(Node).where(col(Node.cluster_id) == cluster.id, col(Node.name) == name)).first()
    if proven is not None and (node is None or node.id != proven.id):
        raise Conflict(f"these node credentials belong to a node registered under another name: start the agent "
                       f"with the `name` it registered with, or remove its state directory to join as {name!r}")
    if node is not None and proven is None and not _rejoin_allowed(node):
        _refused(session, cluster, name)
        raise Conflict(
            f"node name {name!r} is already registered in this cluster and this agent did not prove it is that "
            "node (its saved credentials are missing or wrong): if this machine is that node and lost its agent "
            f"state, an admin runs `kadalu node allow-rejoin -c {cluster.name} {name}`, then restart the agent; "
            "otherwise start the agent with another `name`"
        )
    if node is not None and node.address != address:
        raise Conflict(f"node {name!r} is registered with another storage address: start the agent with the "
                       "`address` it registered with (bricks are bound to it), or remove the node first")
    taken = session.exec(select(Node.id).where(col(Node.cluster_id) == cluster.id, col(Node.address) == address,
                                               col(Node.name) != name)).first()
    if taken is not None:
        raise Conflict(f"address {address} is already registered for another node of this cluster: give this "
                       "node its own storage `address`")
    created = node is None
    if node is None:
        node = Node(cluster_id=cluster.id, name=name, address=address)
    else:
        node.secret_generation += 1
        node.rejoin_allowed_until = None
    for key in ("hostname", "glusterfs_version", "agent_version"):
        if facts.get(key):
            setattr(node, key, str(facts[key])[:255])
    if facts.get("zone"):
        node.zone = check_name("zone", facts["zone"])
    session.add(node)
    try:
        metadata.changed(session, cluster.id, node_id=node.id)  # new, or a new secret generation (a restore keeps it)
        requeued = _requeue_running(session, node)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"node {name!r} was registered at the same moment by another agent: retry") from None
    return Registration(cluster, node, requeued, created)


def _rejoin_allowed(node: Node) -> bool:
    return node.rejoin_allowed_until is not None and node.rejoin_allowed_until > utcnow()


def _refused(session: Session, cluster: Cluster, name: str) -> None:
    """A join-token holder tried to take over a registered name: the admins should know."""
    session.rollback()
    alerts.record(session, cluster.id, "registration_refused",
                  f"a registration as node {name!r} was refused: the agent did not prove it is that node",
                  severity="critical")
    session.commit()


def allow_rejoin(session: Session, *, access: Access, cluster: Cluster, node: Node, minutes: int) -> Node:
    """Let the next registration under this node's name (with the join token) take it over, once."""
    access.require(MANAGE, cluster.id, f"let node {node.name!r} rejoin")
    node.rejoin_allowed_until = utcnow() + timedelta(minutes=minutes)
    session.add(node)
    session.commit()
    return node


def _requeue_running(session: Session, node: Node) -> list[Task]:
    """An agent that (re)registers has restarted: what it was running is lost; run it again."""
    running = list(session.exec(select(Task).where(col(Task.node_id) == node.id, col(Task.phase) == Phase.RUNNING.value)))
    tasks.queue_again(session, running)
    return running


def secret_for(secret_key: str, node: Node) -> str:
    return security.node_secret(secret_key, node.id, node.secret_generation)


def authenticate(session: Session, secret_key: str, node_id: str, secret: str) -> Node:
    node = session.get(Node, node_id)
    if node is None or not hmac.compare_digest(secret_for(secret_key, node), secret):
        raise Unauthorized("node credentials are not valid: restart the agent so that it registers again")
    return node


def get(session: Session, cluster: Cluster, name: str) -> Node:
    node = session.exec(select(Node).where(col(Node.cluster_id) == cluster.id, col(Node.name) == name)).first()
    if node is None:
        raise NotFound(f"node {name!r} not found in cluster {cluster.name!r}: `kadalu node list -c {cluster.name}`")
    return node


def list_nodes(session: Session, cluster: Cluster) -> list[Node]:
    return list(session.exec(select(Node).where(col(Node.cluster_id) == cluster.id).order_by(Node.name)))


def device_counts(session: Session, cluster: Cluster, node_ids: list[str] | None = None) -> dict[str, int]:
    stmt = select(Device.node_id, func.count()).where(col(Device.cluster_id) == cluster.id).group_by(Device.node_id)
    if node_ids is not None:
        stmt = stmt.where(col(Device.node_id).in_(node_ids))
    return dict(session.exec(stmt).all())


def heartbeat_age(node: Node, now: datetime | None = None) -> float | None:
    if node.last_heartbeat_at is None:
        return None
    return max(0.0, ((now or utcnow()) - node.last_heartbeat_at).total_seconds())


def remove(session: Session, *, access: Access, cluster: Cluster, node: Node) -> None:
    access.require(MANAGE, cluster.id, f"remove node {node.name!r}", (("node", node.id),))
    if session.exec(select(func.count()).select_from(Device).where(col(Device.node_id) == node.id)).one():
        raise Conflict(f"node {node.name!r} still has devices: remove them first (`kadalu device remove`)")
    if session.exec(select(func.count()).select_from(Brick).where(col(Brick.node_id) == node.id)).one():
        raise Conflict(f"node {node.name!r} still holds bricks of volumes: delete those volumes first")
    session.delete(node)
    metadata.changed(session, cluster.id, node_id=node.id)
    session.commit()


def set_zone(session: Session, *, access: Access, cluster: Cluster, node: Node, zone: str) -> Node:
    access.require(WRITE, cluster.id, f"label node {node.name!r}", (("node", node.id),))
    node.zone = check_name("zone", zone) if zone else ""
    session.add(node)
    session.commit()
    return node
