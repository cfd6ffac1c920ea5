from fastapi import APIRouter, status

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, nodes
from controlplane.services.errors import NotFound

router = APIRouter(prefix="/clusters/{cluster}/nodes", tags=["nodes"])


@router.get("", response_model=schemas.ListOf[schemas.NodePublic], responses=errors(404))
def read_nodes(cluster: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    counts = nodes.device_counts(session, c)
    rows = [
        present.node(n, counts.get(n.id, 0))
        for n in nodes.list_nodes(session, c)
        if access.sees_resource(c.id, (("node", n.id),))
    ]
    return schemas.ListOf(data=rows, count=len(rows))


@router.get("/{node}", response_model=schemas.NodePublic, responses=errors(404))
def read_node(cluster: str, node: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    n = nodes.get(session, c, node)
    if not access.sees_resource(c.id, (("node", n.id),)):
        raise NotFound(f"node {node!r} not found in cluster {cluster!r}")
    return present.node(n, nodes.device_counts(session, c).get(n.id, 0))


@router.delete("/{node}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_node(cluster: str, node: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    nodes.remove(session, access, c, nodes.get(session, c, node))


@router.patch("/{node}", response_model=schemas.NodePublic, responses=errors(403, 404))
def update_node(cluster: str, node: str, body: schemas.NodeUpdate, access: CurrentAccess, session: SessionDep):
    """Label a node with its zone (failure domain): provisioning puts a set's bricks in distinct zones."""
    c = clusters.get_visible(session, access, cluster)
    n = nodes.set_zone(session, access, c, nodes.get(session, c, node), body.zone)
    return present.node(n, nodes.device_counts(session, c).get(n.id, 0))
