from typing import Literal

from fastapi import APIRouter, Query

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.models import Cluster
from controlplane.services import clusters, visibility

router = APIRouter(tags=["tasks"])


@router.get("/clusters/{cluster}/tasks", response_model=schemas.ListOf[schemas.TaskPublic], responses=errors(404))
def read_tasks(
    cluster: str, access: CurrentAccess, session: SessionDep,
    state: str | None = Query(default=None, max_length=16), node: str | None = None,
    limit: int = Query(default=50, ge=1, le=1000),
):
    """The newest tasks the user sees: all of the cluster's with a cluster grant, else those of their
    nodes, volumes and devices (specs cut to their scope, never the volume credentials)."""
    c = clusters.get_visible(session, access, cluster)
    node_id = visibility.node(session, access, c, node).id if node else None
    rows = visibility.tasks(session, access, c.id, state, node_id, limit)
    return schemas.ListOf(data=present.tasks(session, access, c.id, rows), count=len(rows))


@router.get("/tasks/{task_id}", response_model=schemas.TaskPublic, responses=errors(404))
def read_task(task_id: str, access: CurrentAccess, session: SessionDep):
    task = visibility.task(session, access, task_id)
    return present.tasks(session, access, task.cluster_id, [task])[0]


@router.get("/clusters/{cluster}/alerts", response_model=schemas.ListOf[schemas.AlertPublic], responses=errors(404))
def read_alerts(cluster: str, access: CurrentAccess, session: SessionDep, limit: int = Query(default=50, ge=1, le=1000),
                state: Literal["firing", "resolved"] | None = None):
    """The newest alerts the user sees: all with a cluster grant, else those of their nodes and volumes.
    `state=firing`: only the open ones (a condition that still holds)."""
    c: Cluster = clusters.get_visible(session, access, cluster)
    rows = visibility.alerts(session, access, c.id, limit, state)
    return schemas.ListOf(data=present.alerts(session, c.id, rows), count=len(rows))
