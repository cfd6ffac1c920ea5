"""`kadalu cluster verify` (services.drift's findings for one cluster, on demand) and its `--repair`:
one REPAIR_BRICK task per brick whose findings all have a safe repair; a brick with any finding
that must not be repaired automatically (a foreign volume id, a missing directory) gets no task,
and the answer says why. The tasks are not part of a volume operation: the volume keeps its state,
and the next drift report shows whether the node now matches (the alerts then resolve)."""
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from contracts.task_kinds import Phase, TaskKind
from contracts.task_specs import RepairBrickSpec
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Node, Task, Volume
from controlplane.services import alerts, drift, tasks, volume_specs
from controlplane.services.access import READ, WRITE, Access

ACTION_ORDER = ("stop", "restore_volume_id", "run")


@dataclass
class Verification:
    cluster: Cluster
    checks: list[drift.NodeCheck]
    repairs: list[dict[str, Any]] = field(default_factory=list)  # {brick_id, node, action, task_id}
    refused: list[dict[str, Any]] = field(default_factory=list)  # {key, kind, node, reason}

    @property
    def findings(self) -> list[drift.Finding]:
        return [f for c in self.checks for f in c.findings]


def verify(session: Session, *, access: Access, cluster: Cluster, repair: bool = False) -> Verification:
    access.require(WRITE if repair else READ, cluster.id, f"{'repair' if repair else 'verify'} cluster {cluster.name!r}")
    checks = drift.check_cluster(session, cluster.id)
    drift.raise_alerts(session, checks)
    result = Verification(cluster, checks)
    if repair:
        _repair(session, result)
    session.commit()
    return result


def _repair(session: Session, result: Verification) -> None:
    by_brick: dict[str, list[drift.Finding]] = {}
    names = {c.node.id: c.node.name for c in result.checks}
    for f in result.findings:
        if f.brick_id:
            by_brick.setdefault(f.brick_id, []).append(f)
        elif f.refusal:
            result.refused.append({"key": f.key, "kind": f.kind, "node": names.get(f.node_id, f.node_id),
                                   "reason": f.refusal})
    for brick_id, found in by_brick.items():
        refusals = [f for f in found if f.refusal]
        node_name = names.get(found[0].node_id, found[0].node_id)
        if refusals:
            for f in found:
                reason = f.refusal or f"not repaired: {refusals[0].kind} on the same brick must be resolved first " \
                                      f"({refusals[0].refusal})"
                result.refused.append({"key": f.key, "kind": f.kind, "node": node_name, "reason": reason})
            continue
        actions = {f.repair for f in found if f.repair}
        action = "stop" if "stop" in actions else "run"
        task = _send(session, brick_id, action, restore="restore_volume_id" in actions)
        result.repairs.append({"brick_id": brick_id, "node": node_name, "action": action,
                               "restore_volume_id": "restore_volume_id" in actions,
                               "task_id": task.id if task else None,
                               "kinds": sorted({f.kind for f in found})})


def _send(session: Session, brick_id: str, action: str, restore: bool) -> Task | None:
    """One REPAIR_BRICK for the brick, unless one is still queued or running (that one is reused)."""
    brick = session.get(Brick, brick_id)
    volume = session.get(Volume, brick.volume_id) if brick else None
    node = session.get(Node, brick.node_id) if brick else None
    if brick is None or volume is None or node is None:
        return None
    active = session.exec(select(Task).where(col(Task.kind) == TaskKind.REPAIR_BRICK.value, col(Task.node_id) == node.id,
                                             col(Task.volume_id) == volume.id, col(Task.phase).in_(tasks.ACTIVE)))
    for task in active:
        if task.spec.get("brick_id") == brick_id:
            return task
    spec = RepairBrickSpec(volume=volume_specs.spec(session, volume), brick_id=brick_id, action=action,
                           restore_volume_id=restore)
    return tasks.new_task(session, node, TaskKind.REPAIR_BRICK, spec.model_dump(), volume_id=volume.id)


def repair_finished(session: Session, task: Task, data: dict) -> None:
    """A REPAIR_BRICK result: the brick's pid as the agent says; a notice of what changed. The
    drift alerts resolve with the node's next report, not on the agent's word alone."""
    brick = session.get(Brick, task.spec.get("brick_id"))
    if task.phase != Phase.DONE.value or brick is None:
        return
    pid = data.get("pid")
    brick.pid = pid if isinstance(pid, int) and pid > 0 else None
    brick.online, brick.reported_at = brick.pid is not None, utcnow()
    session.add(brick)
    done = [str(x)[:40] for x in data.get("done", []) if isinstance(x, str)][:10]
    node = session.get(Node, task.node_id)
    alerts.record(session, task.cluster_id, "drift_repaired",
                  f"repaired brick {node.name if node else task.node_id}:{brick.path}: {', '.join(done) or 'nothing to do'}",
                  severity="info", node_id=task.node_id, volume_id=task.volume_id)
