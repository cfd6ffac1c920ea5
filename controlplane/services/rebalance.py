"""Rebalance: every node holding bricks of the volume fixes the layout and moves the files on its
own bricks; progress comes back in task results and heartbeats, one row per (volume, node).

Reports are untrusted input: a node reports only on volumes of its own cluster on which it holds
bricks, in the words its agent uses, with counters that fit their columns. Only `rebalance start`
begins a run: after a stop, no report brings a node's row back to in_progress, so a stop always
lets a later start proceed (the agent's start keeps a process that outlived the stop)."""
import logging
import math

from sqlmodel import Session, col, select

from contracts.messages import RebalanceReport
from contracts.states import REBALANCE_ACTIVE, REBALANCE_REPORTED, RebalanceState, VolumeState, rebalance_rollup
from contracts.task_kinds import Phase, TaskKind
from contracts.task_specs import RebalanceTaskSpec
from controlplane.db import utcnow
from controlplane.models import Brick, Node, Rebalance, Task, Volume
from controlplane.services import tasks, volume_plan
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.transitions import REBALANCE
from controlplane.services.volume_specs import bricks_of, refs, spec

log = logging.getLogger(__name__)

COUNTERS = ("files_scanned", "files_moved", "files_failed", "files_skipped", "bytes_moved")
R = RebalanceState
_LIMITS = {key: 2**31 - 1 for key in COUNTERS} | {"bytes_moved": 2**63 - 1}  # the columns' sizes


def _nodes(session: Session, volume: Volume) -> list[Node]:
    ids = {b.node_id for b in bricks_of(session, volume)}
    return list(session.exec(select(Node).where(col(Node.id).in_(list(ids))).order_by(Node.name)))


def _row(session: Session, volume_id: str, node_id: str) -> Rebalance:
    row = session.exec(select(Rebalance).where(col(Rebalance.volume_id) == volume_id, col(Rebalance.node_id) == node_id)).first()
    return row or Rebalance(volume_id=volume_id, node_id=node_id)


def _rows(session: Session, volume: Volume) -> list[Rebalance]:
    """The rows of nodes that hold bricks of the volume now: a node that no longer does cannot be
    stopped through this volume, so its last word must not block a start."""
    holders = {b.node_id for b in bricks_of(session, volume)}
    rows = session.exec(select(Rebalance).where(col(Rebalance.volume_id) == volume.id)).all()
    return [r for r in rows if r.node_id in holders]


def start(session: Session, *, access: Access, volume: Volume, fix_layout_only: bool = False) -> list[Task]:
    access.require(WRITE, volume.cluster_id, f"rebalance volume {volume.name!r}", refs(volume))
    if volume.state != VolumeState.STARTED:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: rebalance runs on a Started volume (`kadalu volume start`)")
    if len(bricks_of(session, volume)) <= volume_plan.set_size(volume):
        raise Conflict(f"volume {volume.name!r} has a single set: there is nothing to rebalance; expand it first")
    if any(r.state in REBALANCE_ACTIVE for r in _rows(session, volume)):
        raise Conflict(f"a rebalance of {volume.name!r} is running: see `kadalu volume rebalance status`, or stop it")
    current = {r.id for r in _rows(session, volume)}
    for gone in session.exec(select(Rebalance).where(col(Rebalance.volume_id) == volume.id)).all():
        if gone.id not in current:
            session.delete(gone)  # a former holder's last run: the new run does not include it
    return _send_to_nodes(session, volume, TaskKind.START_REBALANCE, R.STARTING, fix_layout_only)


def stop(session: Session, *, access: Access, volume: Volume) -> list[Task]:
    access.require(WRITE, volume.cluster_id, f"stop the rebalance of volume {volume.name!r}", refs(volume))
    if not any(r.state in REBALANCE_ACTIVE for r in _rows(session, volume)):
        raise Conflict(f"no rebalance of {volume.name!r} is running")
    return _send_to_nodes(session, volume, TaskKind.STOP_REBALANCE, R.STOPPING, False)


def _send_to_nodes(session: Session, volume: Volume, kind: str, state: str, fix_layout_only: bool) -> list[Task]:
    body = RebalanceTaskSpec(volume=spec(session, volume), fix_layout_only=fix_layout_only).model_dump()
    made = []
    for node in _nodes(session, volume):
        task = tasks.new_task(session, node, kind, body, volume_id=volume.id)
        row = _row(session, volume.id, node.id)
        REBALANCE.move(row, state)
        row.updated_at = utcnow()
        if kind == TaskKind.START_REBALANCE:
            for key in COUNTERS:
                setattr(row, key, 0)
            row.elapsed_seconds = 0.0
        session.add(row)
        made.append(task)
    session.commit()
    return made


def _checked(data: dict) -> dict | None:
    """The report's state and counters, or None when they are not what an agent sends."""
    state = data.get("state")
    if state not in REBALANCE_REPORTED:
        return None
    out: dict = {"state": state}
    for key in COUNTERS:
        value = data.get(key, 0) or 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _LIMITS[key]:
            return None
        out[key] = value
    elapsed = data.get("elapsed_seconds", 0.0) or 0.0
    if isinstance(elapsed, bool) or not isinstance(elapsed, int | float) or not math.isfinite(elapsed) or elapsed < 0:
        return None
    out["elapsed_seconds"] = float(elapsed)
    return out


def _store(session: Session, row: Rebalance, values: dict) -> None:
    if not REBALANCE.can(row.state, values["state"]):
        log.info("rebalance row of node %s, volume %s: %s -> %s is not an arrow of the table; dropped",
                 row.node_id, row.volume_id, row.state, values["state"])
        return
    REBALANCE.move(row, values["state"])
    for key in COUNTERS:
        setattr(row, key, values[key])
    row.elapsed_seconds = values["elapsed_seconds"]
    row.updated_at = utcnow()
    session.add(row)


def _last_command(session: Session, volume_id: str, node_id: str) -> str | None:
    return session.exec(
        select(Task.kind).where(col(Task.volume_id) == volume_id, col(Task.node_id) == node_id,
                                col(Task.kind).in_([TaskKind.START_REBALANCE, TaskKind.STOP_REBALANCE]))
        .order_by(col(Task.created_at).desc()).limit(1)
    ).first()


def task_finished(session: Session, task: Task, data: dict) -> None:
    """The answer to a START/STOP_REBALANCE settles the node's row. A stop's answer always ends the
    run as far as the control plane is concerned: a node still saying in_progress is recorded as
    failed (its stop did not take), so the user may start again or look at the node."""
    if task.volume_id is None or session.get(Volume, task.volume_id) is None:
        return  # deleted meanwhile
    row = _row(session, task.volume_id, task.node_id)
    values = _checked(data) if task.phase == Phase.DONE.value else None
    if values is None:
        if task.phase == Phase.DONE.value:
            log.warning("node %s answered %s for volume %s with an unknown rebalance status: %r",
                        task.node_id, task.kind, task.volume_id, {k: data.get(k) for k in ("state", *COUNTERS)})
        values = {"state": R.FAILED, **{k: getattr(row, k) or 0 for k in COUNTERS},
                  "elapsed_seconds": row.elapsed_seconds or 0.0}
    elif task.kind == TaskKind.STOP_REBALANCE and values["state"] == R.IN_PROGRESS:
        log.warning("node %s still runs the rebalance of volume %s after a stop", task.node_id, task.volume_id)
        values["state"] = R.FAILED
    _store(session, row, values)


def _refusal(session: Session, node: Node, report: RebalanceReport) -> str | None:
    volume = session.get(Volume, report.volume_id)
    if volume is None or volume.cluster_id != node.cluster_id:
        return "no such volume in the node's cluster"
    holds = session.exec(select(Brick.id).where(col(Brick.volume_id) == volume.id,
                                                col(Brick.node_id) == node.id).limit(1)).first()
    if holds is None:
        return "the node holds no brick of this volume"
    return None


def apply_reports(session: Session, node: Node, reports: list[RebalanceReport]) -> None:
    """Heartbeat reports. A row waiting for a start or stop answer (starting/stopping) is settled by
    that answer, not by a report that may predate it; a run the control plane did not start (no
    start since the last stop) cannot become in_progress through a report."""
    for report in reports:
        why = _refusal(session, node, report)
        values = _checked(report.model_dump(exclude={"volume_id"}))
        if why is None and values is None:
            why = f"unknown rebalance status (state {report.state[:32]!r}, or a counter out of range)"
        if why is not None or values is None:
            log.warning("rebalance report of node %s (%s) for volume %r dropped: %s",
                        node.name, node.id, report.volume_id[:64], why)
            continue
        row = _row(session, report.volume_id, node.id)
        if row.state in (R.STARTING, R.STOPPING):
            continue
        if values["state"] == R.IN_PROGRESS and _last_command(session, report.volume_id, node.id) != TaskKind.START_REBALANCE:
            continue
        _store(session, row, values)


def status(session: Session, volume: Volume) -> dict:
    names = {n.id: n.name for n in _nodes(session, volume)}
    rows = _rows(session, volume)
    per_node = [{"node": names.get(r.node_id, r.node_id), "state": r.state, "elapsed_seconds": r.elapsed_seconds,
                 "updated_at": r.updated_at, **{k: getattr(r, k) for k in COUNTERS}} for r in rows]
    overall = rebalance_rollup({r["state"] for r in per_node})
    totals = {k: sum(r[k] for r in per_node) for k in COUNTERS}
    elapsed = max((r["elapsed_seconds"] for r in per_node), default=0.0)
    return {"volume": volume.name, "state": overall, **totals, "elapsed_seconds": elapsed,
            "nodes": sorted(per_node, key=lambda r: r["node"])}
