"""Brick liveness from heartbeats, and a volume's health from it: Up, Degraded (a set lost a
brick but keeps quorum), Down (a set lost quorum, or a distribute brick is gone)."""
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from contracts.messages import BrickReport
from controlplane.models import Brick, Node, Volume
from controlplane.services import volume_plan

HEALTH_STATES = frozenset({"Started", "StartFailed", "Expanding", "Reconfiguring", "ReconfigureFailed", "ExpandFailed"})


REPORTED = tuple(col(c) for c in (Brick.id, Brick.node_id, Brick.online, Brick.pid, Brick.heal_pending, Brick.size_bytes,
                                   Brick.free_bytes))


def apply_reports(session: Session, reports: dict[str, list[BrickReport]], now: datetime) -> None:
    """Update the bricks of these nodes (node id -> the bricks its heartbeat reports) without a commit;
    a brick its node no longer reports is offline, and a node speaks only for its own bricks. Bricks
    are read as plain rows (a batch of heartbeats covers thousands); a brick whose report changed is
    written by primary key, every unchanged one only stamped `reported_at` by one UPDATE (a node
    holds many bricks and beats every few seconds: not one statement per brick)."""
    seen = {node_id: {r.brick_id: r for r in rs} for node_id, rs in reports.items()}
    gone, changed, unchanged = [], [], []
    for b in session.connection().execute(sa_select(*REPORTED).where(col(Brick.node_id).in_(list(reports)))):
        r = seen[b.node_id].get(b.id)
        if r is None:
            if b.online:
                gone.append({"id": b.id, "online": False, "pid": None})
            continue
        sizes = (r.size_bytes, r.free_bytes) if r.size_bytes else (b.size_bytes, b.free_bytes)
        if (b.online, b.pid, b.heal_pending, b.size_bytes, b.free_bytes) == (r.online, r.pid, r.heal_pending, *sizes):
            unchanged.append(b.id)
            continue
        changed.append({"id": b.id, "online": r.online, "pid": r.pid, "reported_at": now, "heal_pending": r.heal_pending,
                        "size_bytes": sizes[0], "free_bytes": sizes[1]})
    for rows in (gone, changed):
        if rows:
            session.execute(update(Brick), rows)  # by primary key, one statement for many rows
    ids = sorted(unchanged)
    for k in range(0, len(ids), 1000):  # bound the statement's parameters
        session.execute(update(Brick).where(col(Brick.id).in_(ids[k:k + 1000])).values(reported_at=now)
                        .execution_options(synchronize_session=False))


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
