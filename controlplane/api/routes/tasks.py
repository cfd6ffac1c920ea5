from fastapi import APIRouter, Query

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.models import Cluster
from controlplane.services import alerts, clusters, nodes, tasks
from controlplane.services.access import READ
from controlplane.services.errors import NotFound

router = APIRouter(tags=["tasks"])


@router.get("/clusters/{cluster}/tasks", response_model=schemas.ListOf[schemas.TaskPublic], responses=errors(404))
def read_tasks(
    cluster: str, access: CurrentAccess, session: SessionDep,
    state: str | None = Query(default=None, max_length=16), node: str | None = None, limit: int = Query(default=50, ge=1, le=1000),
):
    c = clusters.get_visible(session, access, cluster)
    node_id = nodes.get(session, c, node).id if node else None
    rows = [t for t in tasks.list_tasks(session, c.id, state, node_id, limit) if access.sees_resource(c.id, (("node", t.node_id),))]
    return schemas.ListOf(data=present.tasks(session, c.id, rows), count=len(rows))


@router.get("/tasks/{task_id}", response_model=schemas.TaskPublic, responses=errors(404))
def read_task(task_id: str, access: CurrentAccess, session: SessionDep):
    task = tasks.get(session, task_id)
    if access.resource_rank(task.cluster_id, (("node", task.node_id),)) < READ:
        raise NotFound(f"task {task_id!r} not found")
    return present.tasks(session, task.cluster_id, [task])[0]


@router.get("/clusters/{cluster}/alerts", response_model=schemas.ListOf[schemas.AlertPublic], responses=errors(404))
def read_alerts(cluster: str, access: CurrentAccess, session: SessionDep, limit: int = Query(default=50, ge=1, le=1000)):
    c: Cluster = clusters.get_visible(session, access, cluster)
    rows = alerts.list_alerts(session, c.id, limit)
    return schemas.ListOf(data=present.alerts(session, c.id, rows), count=len(rows))
