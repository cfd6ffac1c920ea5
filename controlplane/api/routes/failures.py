from fastapi import APIRouter, Query

from controlplane.api import schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, failures

router = APIRouter(tags=["failures"])


@router.get("/failures", response_model=schemas.ListOf[schemas.FailurePublic], responses=errors(404))
def read_failures(access: CurrentAccess, session: SessionDep, cluster: str | None = None,
                  limit: int = Query(default=50, ge=1, le=1000)):
    """The latest failure per volume (or device) and node, with the errno and how to fix it."""
    ids = ([clusters.get_visible(session, access, cluster).id] if cluster
           else [c.id for c in clusters.list_visible(session, access)])
    rows = failures.report(session, access, ids, limit)
    return schemas.ListOf(data=rows, count=len(rows))
