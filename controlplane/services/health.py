"""Node liveness: heartbeats make a node Online; beat marks stale nodes Unreachable."""
import logging
import time
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from contracts.messages import Heartbeat
from contracts.states import NodeState
from controlplane.db import rowcount, utcnow
from controlplane.models import Device, Node
from controlplane.services import alerts, georep_reports, georep_roles, health_alerts, rebalance, volume_health
from controlplane.services.transitions import NODE

log = logging.getLogger(__name__)
MAX_CLOCK_SKEW_SECONDS = 300.0


def is_stale(hb: Heartbeat, timeout: float) -> bool:
    """A heartbeat that waited in the broker longer than the node timeout says nothing about now
    (the control worker was down, or the message was redelivered); one from the future is a clock
    problem or a forgery. Needs NTP-synced clocks."""
    now = time.time()
    return hb.sent_at < now - timeout or hb.sent_at > now + MAX_CLOCK_SKEW_SECONDS


def receive_heartbeat(session: Session, node: Node, hb: Heartbeat, timeout: float, min_gap: float = 0.0) -> bool:
    """Apply a verified heartbeat once: not stale, and newer than the last one applied (a replayed or
    reordered heartbeat changes nothing, whichever control worker or API replica gets it). Back-pressure:
    a node's heartbeat less than `min_gap` seconds (control plane clock) after the last one applied is
    dropped unread, so a node sending faster than allowed costs one UPDATE per message, not a heartbeat."""
    if is_stale(hb, timeout):
        log.info("dropped a stale heartbeat from node %s (sent %.0fs ago)", node.name, time.time() - hb.sent_at)
        return False
    now = utcnow()
    claim = update(Node).where(col(Node.id) == node.id, col(Node.heartbeat_sent_at) < hb.sent_at)
    if min_gap > 0:
        claim = claim.where(or_(col(Node.last_heartbeat_at).is_(None), col(Node.state) != NodeState.ONLINE,
                                col(Node.last_heartbeat_at) <= now - timedelta(seconds=min_gap)))
    claimed = session.execute(claim.values(heartbeat_sent_at=hb.sent_at, last_heartbeat_at=now))
    if rowcount(claimed) != 1:
        session.rollback()
        if min_gap > 0 and node.heartbeat_sent_at < hb.sent_at:
            log.debug("throttled node %s: a heartbeat within %.1fs of the last one applied", node.name, min_gap)
        else:
            log.warning("dropped a replayed or out-of-order heartbeat from node %s (sent_at %.3f)", node.name, hb.sent_at)
        return False
    session.refresh(node)
    apply_heartbeat(session, node, hb)
    return True


def apply_heartbeat(session: Session, node: Node, hb: Heartbeat) -> None:
    previous = node.state
    node.last_heartbeat_at = utcnow()
    if node.state != NodeState.ONLINE:
        NODE.move(node, NodeState.ONLINE)
    node.metadata_version = hb.metadata_version
    for key in ("hostname", "glusterfs_version", "agent_version"):
        value = getattr(hb, key)
        if value:
            setattr(node, key, value[:255])
    session.add(node)
    usage = {d.device_id: d for d in hb.devices}
    if usage:
        for dev in session.exec(select(Device).where(col(Device.node_id) == node.id, col(Device.id).in_(list(usage)))):
            dev.size_bytes, dev.free_bytes = usage[dev.id].size_bytes, usage[dev.id].free_bytes
            session.add(dev)
    volume_health.apply_reports(session, node, hb.bricks)
    rebalance.apply_reports(session, node, hb.rebalances)
    georep_reports.apply_reports(session, node, hb.georep)
    georep_roles.follow_nodes(session, node.cluster_id, {node.id} if previous != NodeState.ONLINE else set())
    if previous != NodeState.ONLINE:
        health_alerts.node_back(session, node)
        alerts.record(
            session, node.cluster_id, "node_online",
            f"node {node.name} ({node.address}) is Online" + (" again" if previous == NodeState.UNREACHABLE else ""),
            severity="info", node_id=node.id,
        )
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
