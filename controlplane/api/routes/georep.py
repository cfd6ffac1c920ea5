"""Geo-replication sessions of a cluster's volumes: thin routes over controlplane/services/georep.py."""
from fastapi import APIRouter, status

from controlplane.api import georep_schemas as gs
from controlplane.api import schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, georep, georep_status

router = APIRouter(prefix="/clusters/{cluster}/geo-replication", tags=["geo-replication"])
SENT = status.HTTP_202_ACCEPTED
MESSAGES = {"start": "Geo-replication session start request sent.", "stop": "Geo-replication session stop request sent.",
            "pause": "Geo-replication session pause request sent.",
            "resume": "Geo-replication session resume request sent.",
            "delete": "Geo-replication session delete request sent."}


@router.post("", response_model=gs.GeoRepPublic, status_code=SENT, responses=errors(403, 404, 409))
def create_session(cluster: str, body: gs.GeoRepCreate, access: CurrentAccess, session: SessionDep):
    """A session from a Started master volume of this cluster to a Started remote volume of another
    cluster of this control plane (`remote_cluster`), or of one managed elsewhere (`remote_host`). The
    master nodes make the session's ssh keys, the remote nodes take them; then it starts unless
    `start` is false."""
    c = clusters.get_visible(session, access, cluster)
    geo, _ = georep.create(session, access=access, cluster=c, request=georep.CreateRequest(**body.model_dump()))
    return georep_status.public(session, geo, "Geo-replication session creation request sent.")


@router.get("", response_model=schemas.ListOf[gs.GeoRepPublic], responses=errors(404))
def read_sessions(cluster: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    rows = [georep_status.public(session, g) for g in georep.list_visible(session, access, c)]
    return schemas.ListOf(data=rows, count=len(rows))


@router.get("/{session_id}", response_model=gs.GeoRepPublic, responses=errors(404))
def read_session(cluster: str, session_id: str, access: CurrentAccess, session: SessionDep):
    """The session with every master brick's worker: the role the control plane gave it, and what
    gsyncd last reported (crawl, last synced, pending entries/data/meta, checkpoint)."""
    c = clusters.get_visible(session, access, cluster)
    return georep_status.public(session, georep.get(session, access, c, session_id), with_workers=True)


def _lifecycle(verb: str):
    def handler(cluster: str, session_id: str, access: CurrentAccess, session: SessionDep):
        c = clusters.get_visible(session, access, cluster)
        geo = georep.get(session, access, c, session_id)
        geo_id = geo.id
        georep.lifecycle(session, access=access, geo=geo, verb=verb)
        found = session.get(type(geo), geo_id)
        return georep_status.public(session, found if found is not None else geo, MESSAGES[verb])
    handler.__name__ = f"{verb}_session"
    handler.__doc__ = f"{verb.capitalize()} the session (its monitors on every master node)."
    return handler


for _verb in ("start", "stop", "pause", "resume", "delete"):
    router.add_api_route(f"/{{session_id}}/{_verb}", _lifecycle(_verb), methods=["POST"], status_code=SENT,
                         response_model=gs.GeoRepPublic, responses=errors(403, 404, 409))


@router.get("/{session_id}/config", response_model=schemas.ListOf[gs.GeoRepConfigPublic], responses=errors(404))
def read_config(cluster: str, session_id: str, access: CurrentAccess, session: SessionDep, name: str | None = None):
    """Every key a user may set (or one), with its value, default and what it accepts."""
    c = clusters.get_visible(session, access, cluster)
    rows = georep.config_get(session, access=access, geo=georep.get(session, access, c, session_id), name=name)
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("/{session_id}/config", response_model=gs.GeoRepPublic, status_code=SENT, responses=errors(403, 404, 409))
def set_config(cluster: str, session_id: str, body: gs.GeoRepConfigSet, access: CurrentAccess, session: SessionDep):
    """Set one key (refused unless it is configurable); a Started session's monitors take it at once."""
    c = clusters.get_visible(session, access, cluster)
    geo = georep.get(session, access, c, session_id)
    georep.config_set(session, access=access, geo=geo, name=body.name, value=body.value)
    return georep_status.public(session, geo, f"Geo-replication config {body.name} set.")


@router.post("/{session_id}/config/reset", response_model=gs.GeoRepPublic, status_code=SENT,
             responses=errors(403, 404, 409))
def reset_config(cluster: str, session_id: str, body: gs.GeoRepConfigReset, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    geo = georep.get(session, access, c, session_id)
    georep.config_reset(session, access=access, geo=geo, name=body.name)
    return georep_status.public(session, geo, f"Geo-replication config {body.name or '(all)'} reset.")


@router.post("/{session_id}/checkpoint", response_model=gs.GeoRepCheckpoint, status_code=SENT,
             responses=errors(403, 404, 409))
def set_checkpoint(cluster: str, session_id: str, access: CurrentAccess, session: SessionDep):
    """Mark now; status shows per worker when everything written before it has reached the remote."""
    c = clusters.get_visible(session, access, cluster)
    geo = georep.get(session, access, c, session_id)
    mark, _ = georep.checkpoint(session, access=access, geo=geo)
    return {"id": geo.id, "checkpoint": mark, "message": f"Geo-replication checkpoint set at {mark}."}


@router.get("/{session_id}/ssh-setup", response_model=gs.GeoRepSshSetup, responses=errors(403, 404, 409))
def read_ssh_setup(cluster: str, session_id: str, access: CurrentAccess, session: SessionDep):
    """For a remote managed elsewhere (`remote_host`): the authorized_keys lines to put on its nodes."""
    c = clusters.get_visible(session, access, cluster)
    return georep.ssh_setup(session, access=access, geo=georep.get(session, access, c, session_id))
