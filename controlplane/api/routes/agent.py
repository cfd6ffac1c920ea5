"""Endpoints for node agents: register with the join token, then node credentials."""
from fastapi import APIRouter, Request, status

from contracts.messages import Heartbeat
from controlplane.api import schemas
from controlplane.api.deps import CurrentNode, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import agent_access, health, metadata, nodes
from controlplane.services.errors import Forbidden

router = APIRouter(prefix="/agent", tags=["agent"])


def _metadata(session, cluster_id: str) -> schemas.MetadataPublic:
    row = metadata.current(session, cluster_id)
    return schemas.MetadataPublic(version=row.version if row else 0, content=row.content if row else {})


@router.post("/register", response_model=schemas.AgentRegistered, responses=errors(401, 409))
def register(body: schemas.AgentRegister, request: Request, session: SessionDep, settings: SettingsDep):
    """Register a node (join token), or register again (the node's current credentials, or an admin's
    allow-rejoin): new credentials every time; tasks it was running before a restart are sent again."""
    facts = body.model_dump(include={"hostname", "glusterfs_version", "agent_version", "zone"})
    reg = nodes.register(session, settings.effective_secret_key, name=body.name, address=body.address, facts=facts,
                         join_token=body.join_token, node_id=body.node_id, node_secret=body.node_secret)
    broker = agent_access.broker_url_for(request.app.state.broker_users, settings, reg.node)
    return schemas.AgentRegistered(
        node_id=reg.node.id, node_secret=nodes.secret_for(settings.effective_secret_key, reg.node),
        key_generation=reg.node.secret_generation, cluster_id=reg.cluster.id, cluster_name=reg.cluster.name,
        broker_url=broker, broker_master_name=settings.broker_master_name, heartbeat_interval=settings.heartbeat_interval,
        metadata=_metadata(session, reg.cluster.id),
    )


@router.get("/metadata", response_model=schemas.MetadataPublic)
def read_metadata(node: CurrentNode, session: SessionDep):
    return _metadata(session, node.cluster_id)


@router.post("/heartbeat", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403))
def post_heartbeat(body: Heartbeat, node: CurrentNode, session: SessionDep, settings: SettingsDep):
    """The HTTP twin of the heartbeat message: for agents whose broker link is down."""
    if body.node_id != node.id:
        raise Forbidden("these node credentials belong to another node: a node may only report for itself")
    health.receive_heartbeat(session, node, body, settings.effective_node_timeout)
