"""Rebalance: every node holding bricks of the volume fixes the layout and moves the files on its
own bricks; progress comes back in task results and heartbeats, one row per (volume, node)."""
from sqlmodel import Session, select

from contracts.task_specs import RebalanceTaskSpec
from contracts.messages import RebalanceReport
from contracts.task_kinds import Phase, TaskKind
from controlplane.db import utcnow
from controlplane.models import Node, Rebalance, Task, Volume
from controlplane.services import tasks, volume_plan, volumes
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict

COUNTERS = ("files_scanned", "files_moved", "files_failed", "files_skipped", "bytes_moved")
ACTIVE = ("starting", "in_progress", "stopping")


def _nodes(session: Session, volume: Volume) -> list[Node]:
    ids = {b.node_id for b in volumes.bricks_of(session, volume)}
    return list(session.exec(select(Node).where(Node.id.in_(list(ids))).order_by(Node.name)))


def _row(session: Session, volume_id: str, node_id: str) -> Rebalance:
    row = session.exec(select(Rebalance).where(Rebalance.volume_id == volume_id, Rebalance.node_id == node_id)).first()
    return row or Rebalance(volume_id=volume_id, node_id=node_id)


def start(session: Session, access: Access, volume: Volume, fix_layout_only: bool) -> list[Task]:
    access.require(WRITE, volume.cluster_id, f"rebalance volume {volume.name!r}", volumes.refs(volume))
    if volume.state != "Started":
        raise Conflict(f"volume {volume.name!r} is {volume.state}: rebalance runs on a Started volume (`kadalu volume start`)")
    if len(volumes.bricks_of(session, volume)) <= volume_plan.set_size(volume):
        raise Conflict(f"volume {volume.name!r} has a single set: there is nothing to rebalance; expand it first")
    rows = session.exec(select(Rebalance).where(Rebalance.volume_id == volume.id)).all()
    if any(r.state in ACTIVE for r in rows):
        raise Conflict(f"a rebalance of {volume.name!r} is running: see `kadalu volume rebalance status`, or stop it")
    return _send_to_nodes(session, volume, TaskKind.START_REBALANCE, "starting", fix_layout_only)


def stop(session: Session, access: Access, volume: Volume) -> list[Task]:
    access.require(WRITE, volume.cluster_id, f"stop the rebalance of volume {volume.name!r}", volumes.refs(volume))
    rows = session.exec(select(Rebalance).where(Rebalance.volume_id == volume.id)).all()
    if not any(r.state in ACTIVE for r in rows):
        raise Conflict(f"no rebalance of {volume.name!r} is running")
    return _send_to_nodes(session, volume, TaskKind.STOP_REBALANCE, "stopping", False)


def _send_to_nodes(session: Session, volume: Volume, kind: str, state: str, fix_layout_only: bool) -> list[Task]:
    spec = RebalanceTaskSpec(volume=volumes.spec(session, volume), fix_layout_only=fix_layout_only).model_dump()
    made = []
    for node in _nodes(session, volume):
        task = tasks.new_task(session, node, kind, spec)
        task.volume_id = volume.id
        row = _row(session, volume.id, node.id)
        row.state, row.updated_at = state, utcnow()
        if kind == TaskKind.START_REBALANCE:
            for key in COUNTERS:
                setattr(row, key, 0)
            row.elapsed_seconds = 0.0
        session.add(row)
        made.append(task)
    session.commit()
    return made


def _apply(session: Session, volume_id: str, node_id: str, data: dict) -> None:
    if session.get(Volume, volume_id) is None:
        return
    row = _row(session, volume_id, node_id)
    row.state = str(data.get("state", row.state))[:16]
    for key in COUNTERS:
        setattr(row, key, int(data.get(key, 0) or 0))
    row.elapsed_seconds = float(data.get("elapsed_seconds", 0.0) or 0.0)
    row.updated_at = utcnow()
    session.add(row)


def task_finished(session: Session, task: Task, data: dict) -> None:
    if task.phase == Phase.DONE.value:
        _apply(session, task.volume_id, task.node_id, data)
    else:
        _apply(session, task.volume_id, task.node_id, {"state": "failed"})


def apply_reports(session: Session, node: Node, reports: list[RebalanceReport]) -> None:
    for r in reports:
        _apply(session, r.volume_id, node.id, r.model_dump(exclude={"volume_id"}))


def status(session: Session, volume: Volume) -> dict:
    names = {n.id: n.name for n in _nodes(session, volume)}
    rows = session.exec(select(Rebalance).where(Rebalance.volume_id == volume.id)).all()
    per_node = [{"node": names.get(r.node_id, r.node_id), "state": r.state, "elapsed_seconds": r.elapsed_seconds,
                 "updated_at": r.updated_at, **{k: getattr(r, k) for k in COUNTERS}} for r in rows]
    states = {r["state"] for r in per_node}
    overall = next((s for s in ("failed", "stopping", "starting", "in_progress", "stopped", "completed") if s in states),
                   "not_started")
    totals = {k: sum(r[k] for r in per_node) for k in COUNTERS}
    elapsed = max((r["elapsed_seconds"] for r in per_node), default=0.0)
    return {"volume": volume.name, "state": overall, **totals, "elapsed_seconds": elapsed,
            "nodes": sorted(per_node, key=lambda r: r["node"])}
