"""Endpoints for node agents: register with the join token, then node credentials."""
from fastapi import APIRouter, Request, status

from contracts.messages import Heartbeat
from controlplane.api import schemas
from controlplane.api.deps import CurrentNode, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import clusters, health, metadata, nodes, tasks
from controlplane.services.errors import Forbidden, Invalid

router = APIRouter(prefix="/agent", tags=["agent"])


def _metadata(session, cluster_id: str) -> schemas.MetadataPublic:
    row = metadata.current(session, cluster_id)
    return schemas.MetadataPublic(version=row.version if row else 0, content=row.content if row else {})


@router.post("/register", response_model=schemas.AgentRegistered, responses=errors(401, 409))
def register(body: schemas.AgentRegister, request: Request, session: SessionDep, settings: SettingsDep):
    """Register (or re-register) a node; tasks it was running before a restart are sent again."""
    cluster = clusters.get_by_join_token(session, body.join_token)
    broker = settings.effective_agent_broker_url
    if not broker:
        raise Invalid("the server has no broker URL for agents: set KADALU_BROKER_URL or KADALU_AGENT_BROKER_URL")
    facts = body.model_dump(exclude={"join_token", "name", "address"})
    node, requeued = nodes.register(session, cluster, body.name, body.address, facts)
    tasks.send(session, request.app.state.sender, requeued)
    return schemas.AgentRegistered(
        node_id=node.id, node_secret=nodes.secret_for(settings.effective_secret_key, node), cluster_id=cluster.id,
        cluster_name=cluster.name, broker_url=broker, heartbeat_interval=settings.heartbeat_interval,
        metadata=_metadata(session, cluster.id),
    )


@router.get("/metadata", response_model=schemas.MetadataPublic)
def read_metadata(node: CurrentNode, session: SessionDep):
    return _metadata(session, node.cluster_id)


@router.post("/heartbeat", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403))
def post_heartbeat(body: Heartbeat, node: CurrentNode, session: SessionDep):
    """The HTTP twin of the heartbeat message: for agents whose broker link is down."""
    if body.node_id != node.id:
        raise Forbidden("these node credentials belong to another node: a node may only report for itself")
    health.apply_heartbeat(session, node, body)
