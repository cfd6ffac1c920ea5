"""Heartbeats applied many at a time, in one transaction (the heartbeat worker drains its queue in
batches; the HTTP heartbeat and the tests apply a batch of one). Each message is still checked on
its own: its node's signature, its shape, its age, its order (newer than the last one applied) and
the node's pace (back-pressure); one that fails is dropped without touching the others.

The cost of a batch of B heartbeats is one claim UPDATE per node (the row lock that orders
concurrent heartbeat workers) plus a fixed number of statements for the whole batch (nodes,
devices, bricks read at once; every unchanged brick stamped by one UPDATE), not B transactions."""
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import Float, String, column, text, update, values
from sqlmodel import Session, col, or_, select

from contracts import signing
from contracts.messages import Heartbeat
from contracts.states import NodeState
from controlplane.db import rowcount, utcnow
from controlplane.models import Device, Node
from controlplane.services import alerts, georep_reports, georep_roles, health_alerts, nodes, quota, rebalance, volume_health
from controlplane.services.transitions import NODE

log = logging.getLogger(__name__)
MAX_CLOCK_SKEW_SECONDS = 300.0


@dataclass
class Outcome:
    applied: list[str] = field(default_factory=list)  # node ids
    refused: int = 0  # bad signature, unknown node, malformed
    dropped: int = 0  # stale, replayed, out of order, superseded in the batch, throttled

    def __iadd__(self, other: "Outcome") -> "Outcome":
        self.applied += other.applied
        self.refused += other.refused
        self.dropped += other.dropped
        return self


def is_stale(hb: Heartbeat, timeout: float) -> bool:
    """A heartbeat that waited in the broker longer than the node timeout says nothing about now
    (the heartbeat worker was down, or the message was redelivered); one from the future is a clock
    problem or a forgery. Needs NTP-synced clocks."""
    now = time.time()
    return hb.sent_at < now - timeout or hb.sent_at > now + MAX_CLOCK_SKEW_SECONDS


def verified(session: Session, envelopes: list, secret_key: str) -> tuple[list[tuple[Node, Heartbeat]], int]:
    """The (node, heartbeat) pairs whose envelope verifies against its node's current secret and whose
    payload is a Heartbeat; and how many were refused. Every node is read with one query."""
    claimed: list[tuple[str, object]] = []
    refused = 0
    for envelope in envelopes:
        try:
            claimed.append((signing.unsigned_node_id(envelope), envelope))
        except (signing.BadSignature, ValueError, TypeError) as exc:
            log.warning("dropped a heartbeat that failed verification: %s", exc)
            refused += 1
    ids = list({node_id[:64] for node_id, _ in claimed})
    known = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(ids)))} if ids else {}
    out = []
    for node_id, envelope in claimed:
        node = known.get(node_id)
        try:
            if node is None:
                raise signing.BadSignature("unknown node")
            payload = signing.verify(envelope, nodes.secret_for(secret_key, node))  # type: ignore[arg-type]
            out.append((node, Heartbeat.model_validate(payload)))
        except (signing.BadSignature, ValueError, TypeError) as exc:
            kind = "a malformed" if isinstance(exc, ValidationError) else "a"
            log.warning("dropped %s heartbeat claiming node %s: %s", kind, node_id[:40], str(exc)[:300])
            refused += 1
    return out, refused


def apply_verified(session: Session, pairs: list[tuple[Node, Heartbeat]], timeout: float, min_gap: float = 0.0) -> Outcome:
    """Apply verified heartbeats once each and commit: not stale, newer than the last one applied to
    its node (a replayed or reordered heartbeat changes nothing, whichever heartbeat worker or API
    replica gets it), the newest of the batch for its node, and (back-pressure) not less than
    `min_gap` seconds (control plane clock) after the node's last applied one: a node sending
    faster than allowed costs one UPDATE per message, not a heartbeat."""
    outcome = Outcome()
    newest: dict[str, tuple[Node, Heartbeat]] = {}
    for node, hb in pairs:
        if is_stale(hb, timeout):
            log.info("dropped a stale heartbeat from node %s (sent %.0fs ago)", node.name, time.time() - hb.sent_at)
            outcome.dropped += 1
        elif node.id in newest and newest[node.id][1].sent_at >= hb.sent_at:
            outcome.dropped += 1
        else:
            outcome.dropped += node.id in newest
            newest[node.id] = (node, hb)
    now = utcnow()
    won = set(_claim(session, {i: hb.sent_at for i, (_, hb) in newest.items()}, now, min_gap))
    for node_id in sorted(set(newest) - won):
        node, hb = newest[node_id]
        outcome.dropped += 1
        if min_gap > 0 and node.heartbeat_sent_at < hb.sent_at:
            log.debug("throttled node %s: a heartbeat within %.1fs of the last one applied", node.name, min_gap)
        else:
            log.warning("dropped a replayed or out-of-order heartbeat from node %s (sent_at %.3f)", node.name, hb.sent_at)
    if won:
        # the claimed rows as they are now (locked by the claims until the commit)
        fresh = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(list(won)))
                                               .execution_options(populate_existing=True))}
        outcome.applied = [i for i in sorted(won) if i in fresh]
        apply_claimed(session, [(fresh[i], newest[i][1]) for i in outcome.applied], stamp=False)
    session.commit()
    return outcome


def _claim(session: Session, sent: dict[str, float], now: datetime, min_gap: float) -> list[str]:
    """The nodes whose heartbeat (sent_at by node id) is newer than their last applied one and, with
    `min_gap`, not too soon after it: their rows are stamped and locked until the commit. Rows are
    locked in node id order whatever the batch, so two heartbeat workers never deadlock."""
    if not sent:
        return []
    pace = (or_(col(Node.last_heartbeat_at).is_(None), col(Node.state) != NodeState.ONLINE,
                col(Node.last_heartbeat_at) <= now - timedelta(seconds=min_gap)),) if min_gap > 0 else ()
    ids = sorted(sent)
    if session.get_bind().dialect.name != "postgresql":  # SQLite: one writer, statements in-process
        won = []
        for node_id in ids:
            claim = (update(Node).where(col(Node.id) == node_id, col(Node.heartbeat_sent_at) < sent[node_id], *pace)
                     .values(heartbeat_sent_at=sent[node_id], last_heartbeat_at=now)
                     .execution_options(synchronize_session=False))
            if rowcount(session.execute(claim)) == 1:
                won.append(node_id)
        return won
    # A heartbeat lost in a database crash is replaced by the node's next one: the transaction does not
    # wait for its WAL to reach the disk (on a busy disk that wait was most of a batch's time).
    session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    # FOR NO KEY UPDATE, as volume_plan.lock_nodes: task and brick inserts (KEY SHARE) are not waited for
    session.execute(select(Node.id).where(col(Node.id).in_(ids)).order_by(col(Node.id)).with_for_update(key_share=True))
    batch = values(column("id", String), column("sent_at", Float), name="hb").data([(i, sent[i]) for i in ids])
    claim = (update(Node).where(col(Node.id) == batch.c.id, col(Node.heartbeat_sent_at) < batch.c.sent_at, *pace)
             .values(heartbeat_sent_at=batch.c.sent_at, last_heartbeat_at=now).returning(col(Node.id))
             .execution_options(synchronize_session=False))
    return list(session.execute(claim).scalars())


def apply_claimed(session: Session, pairs: list[tuple[Node, Heartbeat]], stamp: bool = True) -> None:
    """What the heartbeats say, written without a commit: each node Online with its facts, its
    devices' usage, its bricks' liveness, its rebalance reports and the quota usage it reads."""
    ids = [node.id for node, _ in pairs]
    devices: dict[str, list[Device]] = defaultdict(list)
    wanted = [d.device_id for _, hb in pairs for d in hb.devices]
    if wanted:
        for dev in session.exec(select(Device).where(col(Device.node_id).in_(ids), col(Device.id).in_(wanted))):
            devices[dev.node_id].append(dev)
    now = utcnow()
    returned: dict[str, set[str]] = {}  # cluster id -> nodes back Online
    for node, hb in pairs:
        previous = node.state
        if stamp:
            node.last_heartbeat_at = now
        if node.state != NodeState.ONLINE:
            NODE.move(node, NodeState.ONLINE)
        node.metadata_version = hb.metadata_version
        for key in ("hostname", "glusterfs_version", "agent_version"):
            value = getattr(hb, key)
            if value:
                setattr(node, key, value[:255])
        session.add(node)
        usage = {d.device_id: d for d in hb.devices}
        for dev in devices[node.id]:
            if dev.id not in usage:  # another node of the batch named this node's device
                continue
            dev.size_bytes, dev.free_bytes = usage[dev.id].size_bytes, usage[dev.id].free_bytes
            session.add(dev)
        rebalance.apply_reports(session, node, hb.rebalances)
        if hb.quota_usage:
            quota.apply_usage(session, node, hb.quota_usage)
        if hb.georep:
            georep_reports.apply_reports(session, node, hb.georep)
        if previous != NodeState.ONLINE:
            returned.setdefault(node.cluster_id, set()).add(node.id)
            health_alerts.node_back(session, node)
            alerts.record(
                session, node.cluster_id, "node_online",
                f"node {node.name} ({node.address}) is Online" + (" again" if previous == NodeState.UNREACHABLE else ""),
                severity="info", node_id=node.id,
            )
    session.flush()  # the nodes and devices first, then the bricks in bulk
    volume_health.apply_reports(session, {node.id: hb.bricks for node, hb in pairs}, now)
    for cluster_id in sorted({node.cluster_id for node, _ in pairs}):  # once per cluster of the batch
        georep_roles.follow_nodes(session, cluster_id, returned.get(cluster_id, set()))
