"""Brick liveness from heartbeats, and a volume's health from it: Up, Degraded (a set lost a
brick but keeps quorum), Down (a set lost quorum, or a distribute brick is gone)."""
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from contracts.messages import BrickReport
from controlplane.models import Brick, Node, Volume
from controlplane.services import volume_plan

HEALTH_STATES = frozenset({"Started", "StartFailed", "Expanding", "Reconfiguring", "ReconfigureFailed", "ExpandFailed"})


def compare_reports(session: Session, bricks: list[Brick], reports: list[BrickReport], now: datetime) -> list[Brick]:
    """Update one node's bricks (`bricks`: all of them); a brick the agent no longer reports is offline.
    Returns the bricks whose report did not change: they are only stamped `reported_at`, with every
    other unchanged brick, by one UPDATE (stamp_unchanged; a node holds many bricks and beats every
    few seconds: not one statement per brick)."""
    seen = {r.brick_id: r for r in reports}
    unchanged = []
    for brick in bricks:
        r = seen.get(brick.id)
        if r is None:
            if brick.online:
                brick.online, brick.pid = False, None
                session.add(brick)
            continue
        sizes = (r.size_bytes, r.free_bytes) if r.size_bytes else (brick.size_bytes, brick.free_bytes)
        if (brick.online, brick.pid, brick.heal_pending, brick.size_bytes, brick.free_bytes) == (r.online, r.pid, r.heal_pending,
                                                                                                 *sizes):
            unchanged.append(brick)
            continue
        brick.online, brick.pid, brick.reported_at, brick.heal_pending = r.online, r.pid, now, r.heal_pending
        brick.size_bytes, brick.free_bytes = sizes
        session.add(brick)
    return unchanged


def stamp_unchanged(session: Session, unchanged: list[Brick], now: datetime) -> None:
    ids = sorted(b.id for b in unchanged)
    for k in range(0, len(ids), 1000):  # bound the statement's parameters
        session.execute(update(Brick).where(col(Brick.id).in_(ids[k:k + 1000])).values(reported_at=now)
                        .execution_options(synchronize_session=False))
    for brick in unchanged:  # the objects say what the row says (without a write of their own)
        set_committed_value(brick, "reported_at", now)


def _quorum(set_size: int, volume: Volume) -> int:
    if volume.type == "disperse":
        return volume.disperse_count - volume.redundancy_count
    if volume.type in ("replicate", "arbiter"):
        return set_size // 2 + 1 if set_size >= 3 else 1
    return set_size


def brick_is_online(brick: Brick, node_states: dict[str, str]) -> bool:
    return brick.online and node_states.get(brick.node_id) == "Online"


def health(volume: Volume, bricks: list[Brick], node_states: dict[str, str]) -> str | None:
    if volume.state not in HEALTH_STATES or not bricks:
        return None
    size = volume_plan.set_size(volume)
    worst = "Up"
    for k in range(0, len(bricks), size):
        group = bricks[k : k + size]
        online = sum(brick_is_online(b, node_states) for b in group)
        if online < _quorum(len(group), volume):
            return "Down"
        if online < len(group):
            worst = "Degraded"
    return worst


def node_states(session: Session, cluster_id: str) -> dict[str, str]:
    return dict(session.exec(select(Node.id, Node.state).where(col(Node.cluster_id) == cluster_id)).all())
