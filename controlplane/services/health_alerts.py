"""Alerts raised from the cluster's health, evaluated by beat's health check: each condition is
raised while it holds and resolved when it clears (services.alerts keeps one open alert per
condition).

Conditions (key prefix: what it concerns):
- brick_down: a brick of a running volume is not online while its node is Online (an Unreachable
  node has its own alert, node_unreachable, which covers its bricks);
- volume_degraded / volume_down: the volume's health (services.volume_health);
- device_full / volume_full: used space at or above the threshold (KADALU_ALERT_FULL_PERCENT);
node_unreachable is raised by services.health when it marks a node and resolved by its heartbeat.
Alerts raised by events rather than conditions (task_failed from services.reconcile, a refused
registration, a refused task message) resolve once not raised again for KADALU_ALERT_QUIET_SECONDS."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Device, Node, Volume
from controlplane.services import alerts, volume_health, volume_usage

CONDITIONS = ("brick_down", "volume_degraded", "volume_down", "device_full", "volume_full")


@dataclass(frozen=True)
class Thresholds:
    full_percent: float = 90.0
    quiet_seconds: float = 3600.0


def node_key(node_id: str) -> str:
    return f"node_unreachable:{node_id}"


def evaluate(session: Session, limits: Thresholds) -> int:
    """Raise what holds, resolve what cleared; commits. Returns the number of open conditions."""
    holding = conditions(session, limits)
    for (cluster_id, key), (kind, severity, message, node_id, volume_id) in holding.items():
        alerts.record(session, cluster_id, kind, message, severity, node_id=node_id, volume_id=volume_id, key=key)
    for prefix in CONDITIONS:
        for (cluster_id, key) in alerts.open_keys(session, prefix + ":"):
            if (cluster_id, key) not in holding:
                alerts.resolve(session, cluster_id, key)
    cutoff = utcnow() - timedelta(seconds=limits.quiet_seconds)
    for (cluster_id, key), alert in alerts.open_keys(session, "").items():
        if key.split(":", 1)[0] not in (*CONDITIONS, "node_unreachable") and alert.last_seen_at <= cutoff:
            alerts.resolve(session, cluster_id, key)
    session.commit()
    return len(holding)


def _over(free, size, limits: Thresholds):
    """At or above the threshold, in SQL: a little below it, so rounding never hides a candidate (the
    exact test is made in Python on the rows it selects)."""
    return and_(size > 0, (size - free) * 100.0 >= (limits.full_percent - 0.01) * size)


def candidate_volumes(session: Session, limits: Thresholds) -> list[str]:
    """Volumes that may hold a condition: one of their bricks is down, on a node that is not Online,
    or at least the threshold full (a replica or disperse set is no fuller than its fullest brick,
    and a distributed volume no fuller than its fullest set). Every other volume is Up and below the
    threshold, whatever its size: the health check reads only these."""
    stmt = (select(Brick.volume_id).join(Node, col(Node.id) == col(Brick.node_id))
            .where(or_(col(Brick.online).is_(False), col(Node.state) != "Online",
                       _over(col(Brick.free_bytes), col(Brick.size_bytes), limits)))
            .distinct())
    return list(session.exec(stmt))


def conditions(session: Session, limits: Thresholds) -> dict[tuple[str, str], tuple]:
    """Every condition that holds now, by (cluster id, alert key): (kind, severity, message, node id, volume id).
    The cost follows the volumes and devices in trouble, not the cluster's size."""
    holding: dict[tuple[str, str], tuple] = {}
    names = dict(session.exec(select(Cluster.id, Cluster.name)).all())
    bricks: dict[str, list[Brick]] = {}
    ids = candidate_volumes(session, limits)
    for k in range(0, len(ids), 500):
        for b in session.exec(select(Brick).where(col(Brick.volume_id).in_(ids[k:k + 500]))
                              .order_by(col(Brick.volume_id), col(Brick.idx))):
            bricks.setdefault(b.volume_id, []).append(b)
    full = list(session.exec(select(Device).where(col(Device.state) == "Ready",
                                                  _over(col(Device.free_bytes), col(Device.size_bytes), limits))))
    node_ids = list({b.node_id for bs in bricks.values() for b in bs} | {d.node_id for d in full})
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(node_ids)))} if node_ids else {}
    states = {n.id: n.state for n in nodes.values()}
    for k in range(0, len(ids), 500):
        for v in session.exec(select(Volume).where(col(Volume.id).in_(ids[k:k + 500]))):
            _volume_conditions(v, names.get(v.cluster_id, "CLUSTER"), bricks.get(v.id, []), nodes, states, limits, holding)
    for d in full:
        used = 100.0 * (d.size_bytes - d.free_bytes) / d.size_bytes
        if used >= limits.full_percent:
            node = nodes.get(d.node_id)
            where = f"{node.name if node else d.node_id}:{d.path}"
            holding[(d.cluster_id, f"device_full:{d.id}")] = (
                "device_full", "warning", f"device {where} is {used:.0f}% full ({d.free_bytes} bytes free): "
                "free space on it or add devices (`kadalu device add`)", d.node_id, None)
    return holding


def _volume_conditions(v: Volume, cluster: str, bricks: list[Brick], nodes: dict[str, Node], states: dict[str, str],
                       limits: Thresholds, holding: dict) -> None:
    health = volume_health.health(v, bricks, states)
    if health is None:
        return
    for b in bricks:
        if states.get(b.node_id) == "Online" and not b.online:
            node = nodes[b.node_id]
            holding[(v.cluster_id, f"brick_down:{b.id}")] = (
                "brick_down", "warning", f"brick {node.name}:{b.path} of volume {v.name} is not running: "
                f"`kadalu volume start -c {cluster} {v.name} --force` restarts it", b.node_id, v.id)
    if health in ("Degraded", "Down"):
        down = health == "Down"
        holding[(v.cluster_id, f"volume_{health.lower()}:{v.id}")] = (
            f"volume_{health.lower()}", "critical" if down else "warning",
            f"volume {v.name} is {health}: " + ("a set lost quorum, clients get errors" if down else
                                                 "a set lost a brick and runs without full redundancy")
            + f"; `kadalu volume status -c {cluster} {v.name}` shows which bricks", None, v.id)
    use = volume_usage.usage(v, bricks)
    if use.used_fraction is not None and 100.0 * use.used_fraction >= limits.full_percent:
        holding[(v.cluster_id, f"volume_full:{v.id}")] = (
            "volume_full", "warning", f"volume {v.name} is {100.0 * use.used_fraction:.0f}% full "
            f"({use.free_bytes} bytes free): expand it (`kadalu volume expand`) or free space", None, v.id)


def node_back(session: Session, node: Node) -> None:
    """The node sent a heartbeat: its Unreachable alert, if any, is resolved (the caller commits)."""
    alerts.resolve(session, node.cluster_id, node_key(node.id))
