"""Endpoints for node agents: register with the join token, then node credentials."""
import gzip
import json

from fastapi import APIRouter, Query, Request, Response, status

from contracts.messages import Heartbeat
from controlplane.api import schemas
from controlplane.api.deps import CurrentNode, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import agent_access, health, metadata, metadata_signatures, nodes
from controlplane.services.errors import Forbidden

router = APIRouter(prefix="/agent", tags=["agent"])


def _gzip_json(request: Request, data: bytes, compressed: bool) -> Response:
    """JSON bytes, sent gzip-compressed to clients that accept it (agents' httpx does)."""
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = data if compressed else gzip.compress(data, 3)
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(gzip.decompress(data) if compressed else data, media_type="application/json",
                    headers={"Vary": "Accept-Encoding"})


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
    )


@router.get("/metadata", response_model=schemas.MetadataPublic | schemas.MetadataChanges,
            responses={204: {"description": "`since` is the current version: nothing changed"}})
def read_metadata(node: CurrentNode, session: SessionDep, request: Request, settings: SettingsDep,
                  since: int | None = Query(default=None, ge=0, description="the version the agent holds")):
    """The cluster's metadata (format: contracts/metadata_delta.py). Without `since`: the complete
    copy at the newest version. With `since`: nothing (204) when it is the newest version, else the
    changes after it, or the complete copy when the log no longer reaches back that far. Sent
    gzip-compressed when the client accepts it. The `Kadalu-Metadata-Signature` header carries the
    control plane's signature of the complete copy at the version the answer brings the agent to
    (contracts/metadata_signing.py): the agent keeps it with its copy, for `kadalu-server restore`."""
    def signed(response: Response, version: int, content: dict | None = None) -> Response:
        try:
            sig = metadata_signatures.signature_for(session, settings.effective_secret_key,
                                                    request.app.state.metadata_signatures, node.cluster_id, version, content)
        except RuntimeError:  # compacted past `version` meanwhile: the agent asks for the complete copy next time
            return response
        response.headers[metadata_signatures.HEADER] = json.dumps(sig, separators=(",", ":"))
        return response

    if since is not None:
        changes = metadata.changes_since(session, node.cluster_id, since)
        if changes == []:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        if changes is not None:
            body = json.dumps({"version": changes[-1]["version"], "changes": changes}, separators=(",", ":"))
            return signed(_gzip_json(request, body.encode(), compressed=False) if len(body) > 4096 else
                          Response(body, media_type="application/json"), changes[-1]["version"])
    version, snapshot = metadata.snapshot_bytes(session, node.cluster_id)
    if snapshot is not None and metadata.changes_since(session, node.cluster_id, version) == []:
        return signed(_gzip_json(request, snapshot, compressed=True), version)  # stored compressed: no work per request
    copy = metadata.current(session, node.cluster_id)
    return signed(_gzip_json(request, metadata.pack(copy.version, copy.content)[0], compressed=True), copy.version,
                  copy.content)


@router.post("/heartbeat", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403))
def post_heartbeat(body: Heartbeat, node: CurrentNode, session: SessionDep, settings: SettingsDep):
    """The HTTP twin of the heartbeat message: for agents whose broker link is down."""
    if body.node_id != node.id:
        raise Forbidden("these node credentials belong to another node: a node may only report for itself")
    health.receive_heartbeat(session, node, body, settings.effective_node_timeout, settings.effective_heartbeat_min_gap)
