"""Workers' reports, and the Active role following the nodes: when the Active worker's node stops
answering or its brick goes down, another brick of the set whose node is Online becomes Active
(its agent lets go of the lock, gsyncd's worker there takes it and syncs from the set's last
synced time); a node coming back gets its Passive locks again before its workers can sync."""
import logging
import uuid

from sqlmodel import Session, col, select

from contracts.states import GeoRepState, NodeState
from contracts.task_kinds import TaskKind
from controlplane.models import GeoRepSession, GeoRepWorker, Node, Task
from controlplane.services import tasks
from controlplane.services.georep_steps import assign_roles, session_spec

log = logging.getLogger(__name__)


def follow_nodes(session: Session, cluster_id: str, returned: frozenset[str] | set[str] = frozenset()) -> list[Task]:
    """Started sessions of the cluster whose Active workers moved (a node lost, a brick down), and
    nodes in `returned` (back Online): a GEOREP_START to each node whose Passive set changed or that
    returned. These tasks are not the session's request (its state stays Started)."""
    made = []
    for geo in session.exec(select(GeoRepSession).where(col(GeoRepSession.cluster_id) == cluster_id,
                                                        col(GeoRepSession.state) == GeoRepState.STARTED)):
        before = {w.brick_id: (w.node_id, w.role) for w in
                  session.exec(select(GeoRepWorker).where(col(GeoRepWorker.session_id) == geo.id))}
        workers = assign_roles(session, geo)
        changed = {w.node_id for w in workers if before.get(w.brick_id) != (w.node_id, w.role)}
        targets = changed | (set(returned) & {w.node_id for w in workers})
        online = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(sorted(targets))))
                  if n.state == NodeState.ONLINE} if targets else {}
        for node in online.values():
            body = session_spec(session, geo, node.id, workers).model_dump()
            made.append(tasks.new_task(session, node, TaskKind.GEOREP_START, body, volume_id=geo.master_volume_id,
                                       operation_id=str(uuid.uuid4())))
        if changed:
            log.info("geo-replication session %s: Active workers moved (nodes %s)", geo.id, sorted(changed))
    return made
