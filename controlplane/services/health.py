"""Node liveness: heartbeats make a node Online; beat marks stale nodes Unreachable."""
import logging
from datetime import timedelta

from sqlmodel import Session, col, or_, select

from contracts.messages import Heartbeat
from contracts.states import NodeState
from controlplane.db import utcnow
from controlplane.models import Node
from controlplane.services import alerts, georep_roles, health_alerts, heartbeat_batch
from controlplane.services.transitions import NODE

log = logging.getLogger(__name__)
is_stale = heartbeat_batch.is_stale


def receive_heartbeat(session: Session, node: Node, hb: Heartbeat, timeout: float, min_gap: float = 0.0) -> bool:
    """Apply one verified heartbeat (see heartbeat_batch.apply_verified); True when it was applied."""
    return bool(heartbeat_batch.apply_verified(session, [(node, hb)], timeout, min_gap).applied)


def apply_heartbeat(session: Session, node: Node, hb: Heartbeat) -> None:
    """Apply a heartbeat without the replay and pace checks, and commit."""
    heartbeat_batch.apply_claimed(session, [(node, hb)])
    session.commit()


def mark_unreachable(session: Session, timeout: float) -> list[Node]:
    """Online (or never-seen) nodes whose last heartbeat is older than the timeout."""
    cutoff = utcnow() - timedelta(seconds=timeout)
    stale = session.exec(
        select(Node).where(
            or_(
                (col(Node.state) == NodeState.ONLINE) & (col(Node.last_heartbeat_at) < cutoff),
                (col(Node.state) == NodeState.REGISTERED) & (col(Node.registered_at) < cutoff),
            )
        )
    ).all()
    for node in stale:
        NODE.move(node, NodeState.UNREACHABLE)
        session.add(node)
        seen = f"last heartbeat at {node.last_heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if node.last_heartbeat_at else "never seen"
        alerts.record(
            session, node.cluster_id, "node_unreachable",
            f"node {node.name} ({node.address}) is Unreachable: {seen}; its tasks wait until it returns. "
            "Check that kadalu-agent runs on it and can reach the broker",
            severity="critical", node_id=node.id, key=health_alerts.node_key(node.id),
        )
    for cluster_id in sorted({n.cluster_id for n in stale}):
        georep_roles.follow_nodes(session, cluster_id)  # the Active role leaves the nodes just lost
    session.commit()
    return list(stale)
