from fastapi import APIRouter, Request, status
from sqlmodel import col, select

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, Cursor, Limit, SessionDep
from controlplane.api.errors import errors
from controlplane.models import Node
from controlplane.services import agent_access, clusters, nodes, pages
from controlplane.services.errors import NotFound

router = APIRouter(prefix="/clusters/{cluster}/nodes", tags=["nodes"])


@router.get("", response_model=schemas.ListOf[schemas.NodePublic], responses=errors(404))
def read_nodes(cluster: str, access: CurrentAccess, session: SessionDep, limit: Limit = pages.DEFAULT_LIMIT,
               cursor: Cursor = None):
    """Nodes by name, `limit` per page; `next_cursor` continues (docs/api.md, Pagination)."""
    c = clusters.get_visible(session, access, cluster)
    stmt = select(Node).where(col(Node.cluster_id) == c.id)
    shown: list[Node]
    shown, after = pages.page(session, stmt, (col(Node.name),), lambda n: (n.name,), limit, cursor,
                              lambda n: access.sees_resource(c.id, (("node", n.id),)))
    counts = nodes.device_counts(session, c, [n.id for n in shown])
    rows = [present.node(n, counts.get(n.id, 0)) for n in shown]
    return schemas.ListOf(data=rows, count=len(rows), next_cursor=after)


@router.get("/{node}", response_model=schemas.NodePublic, responses=errors(404))
def read_node(cluster: str, node: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    n = nodes.get(session, c, node)
    if not access.sees_resource(c.id, (("node", n.id),)):
        raise NotFound(f"node {node!r} not found in cluster {cluster!r}")
    return present.node(n, nodes.device_counts(session, c).get(n.id, 0))


@router.delete("/{node}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_node(cluster: str, node: str, request: Request, access: CurrentAccess, session: SessionDep):
    """Remove a node without devices or bricks; its credentials and broker user stop working."""
    c = clusters.get_visible(session, access, cluster)
    n = nodes.get(session, c, node)
    nodes.remove(session, access=access, cluster=c, node=n)
    agent_access.revoke(request.app.state.broker_users, n.id)


@router.post("/{node}/allow-rejoin", response_model=schemas.RejoinAllowed, responses=errors(403, 404))
def allow_rejoin(cluster: str, node: str, access: CurrentAccess, session: SessionDep,
                 body: schemas.RejoinRequest | None = None):
    """Let an agent that lost its state register again under this node's name with the join token
    (once, within `minutes`); without this, only the node's own credentials re-register it."""
    c = clusters.get_visible(session, access, cluster)
    n = nodes.allow_rejoin(session, access=access, cluster=c, node=nodes.get(session, c, node),
                          minutes=(body or schemas.RejoinRequest()).minutes)
    return schemas.RejoinAllowed(node=n.name, allowed_until=n.rejoin_allowed_until)


@router.patch("/{node}", response_model=schemas.NodePublic, responses=errors(403, 404))
def update_node(cluster: str, node: str, body: schemas.NodeUpdate, access: CurrentAccess, session: SessionDep):
    """Label a node with its zone (failure domain): provisioning puts a set's bricks in distinct zones."""
    c = clusters.get_visible(session, access, cluster)
    n = nodes.set_zone(session, access=access, cluster=c, node=nodes.get(session, c, node), zone=body.zone)
    return present.node(n, nodes.device_counts(session, c).get(n.id, 0))
