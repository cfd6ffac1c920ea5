"""Directory quotas of a volume: enable/disable, limits, and the usage the nodes report."""
from fastapi import APIRouter, status

from controlplane.api import present, quota_schemas, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, quota, quota_ops, volumes

router = APIRouter(prefix="/clusters/{cluster}/volumes/{volume}/quota", tags=["quota"])
SENT = status.HTTP_202_ACCEPTED


@router.post("/enable", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def enable_quota(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """Switch quota on: the bricks' marker and quota translators (live, state Reconfiguring), a quota
    daemon on every node with a brick, and the existing data counted."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    quota_ops.enable(session, access=access, volume=vol)
    return present.volume(session, vol, "Quota enable sent: the bricks take it in place; existing data is counted.")


@router.post("/disable", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def disable_quota(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """Switch quota off: every limit goes, the nodes clean the quota xattrs off the bricks."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    quota_ops.disable(session, access=access, volume=vol, cluster_name=c.name)
    return present.volume(session, vol, "Quota disable sent: limits removed; the bricks' quota xattrs are cleaned.")


@router.get("", response_model=quota_schemas.QuotaStatus, responses=errors(404, 409))
def list_quota(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """Every limit with the usage last reported (from the control plane; no node is asked)."""
    c = clusters.get_visible(session, access, cluster)
    return quota.listing(session, c, volumes.get(session, access, c, volume))


def _answer(session, access, cluster_id: str, row, task, warnings: list[str]) -> quota_schemas.QuotaChange:
    return quota_schemas.QuotaChange(limit=quota.entry(row), task=present.tasks(session, access, cluster_id, [task])[0],
                                     warnings=warnings)


@router.post("/limit-usage", response_model=quota_schemas.QuotaChange, status_code=SENT,
             responses=errors(403, 404, 409, 422))
def limit_usage(cluster: str, volume: str, body: quota_schemas.QuotaLimitUsage, access: CurrentAccess,
                session: SessionDep):
    """Set (or change) the usage limit of a directory; a node applies it (the task says when). A
    limit below the current usage is set, with a warning."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    row, task, warnings = quota.set_limit(session, access=access, cluster=c, volume=vol,
                                          request=quota.LimitRequest(path=body.path, hard=body.hard, soft=body.soft))
    return _answer(session, access, c.id, row, task, warnings)


@router.post("/limit-objects", response_model=quota_schemas.QuotaChange, status_code=SENT,
             responses=errors(403, 404, 409, 422))
def limit_objects(cluster: str, volume: str, body: quota_schemas.QuotaLimitObjects, access: CurrentAccess,
                  session: SessionDep):
    """Set (or change) how many files and directories a directory may hold."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    row, task, warnings = quota.set_limit(session, access=access, cluster=c, volume=vol, request=quota.LimitRequest(
        path=body.path, objects=body.objects, soft=body.soft))
    return _answer(session, access, c.id, row, task, warnings)


@router.post("/remove", response_model=quota_schemas.QuotaChange, status_code=SENT, responses=errors(403, 404, 409, 422))
def remove_limit(cluster: str, volume: str, body: quota_schemas.QuotaRemove, access: CurrentAccess, session: SessionDep):
    """Remove a directory's limits (usage and objects)."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    row, task = quota.remove_limit(session, access=access, cluster=c, volume=vol, path=body.path)
    return _answer(session, access, c.id, row, task, [])
