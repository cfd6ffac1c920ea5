from fastapi import APIRouter, status

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters
from controlplane.services.access import WRITE

router = APIRouter(prefix="/clusters", tags=["clusters"])


@router.get("", response_model=schemas.ListOf[schemas.ClusterPublic])
def read_clusters(access: CurrentAccess, session: SessionDep):
    rows = [present.cluster(session, access, c) for c in clusters.list_visible(session, access)]
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("", response_model=schemas.ClusterCreated, status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
def create_cluster(body: schemas.ClusterCreate, access: CurrentAccess, session: SessionDep):
    """Create a cluster; the answer holds its join token (shown only now; rotate to get a new one)."""
    access.require_global(WRITE)
    cluster, token = clusters.create_cluster(session, body.name)
    return schemas.ClusterCreated(cluster=present.cluster(session, access, cluster), join_token=token)


@router.get("/{cluster}", response_model=schemas.ClusterStatus, responses=errors(404))
def read_cluster(cluster: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    """The cluster and counts of the nodes (by state), devices and volumes the user sees."""
    return schemas.ClusterStatus(**present.cluster(session, access, c).model_dump(), **clusters.status(session, access, c))


@router.delete("/{cluster}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_cluster(cluster: str, access: CurrentAccess, session: SessionDep):
    clusters.delete_cluster(session, access, clusters.get_visible(session, access, cluster))


@router.post("/{cluster}/join-token", response_model=schemas.JoinToken, responses=errors(403, 404))
def rotate_join_token(cluster: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    return schemas.JoinToken(join_token=clusters.rotate_join_token(session, access, c))
