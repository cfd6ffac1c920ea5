"""A volume's shape and settings: expand (with retry and abort), options, rebalance."""
from fastapi import APIRouter, status

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import clusters, rebalance, volume_ops, volume_options, volumes
from controlplane.services.provisioning_plan import Plan

router = APIRouter(prefix="/clusters/{cluster}/volumes/{volume}", tags=["volumes"])
SENT = status.HTTP_202_ACCEPTED


def _request(body: schemas.VolumeExpand) -> volume_ops.ExpandRequest:
    return volume_ops.ExpandRequest(bricks=body.bricks, force=body.force, sets=body.sets, size=body.size)


def _plan_public(volume: str, p: Plan) -> schemas.PlanPublic:
    return schemas.PlanPublic(
        volume=volume, brick_size=p.brick_size, set_size=p.set_size, set_count=p.set_count,
        arbiter_size=p.arbiter_size, total_bytes=p.total_bytes, notes=list(p.notes), lines=p.describe(),
        bricks=[schemas.PlannedBrickPublic(node=b.node_name, path=b.path, size_bytes=b.size_bytes, set=b.set_index + 1,
                                           arbiter=b.arbiter) for b in p.bricks],
    )


@router.post("/expand", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def expand_volume(cluster: str, volume: str, body: schemas.VolumeExpand, access: CurrentAccess,
                  session: SessionDep, settings: SettingsDep):
    """Add whole sets of bricks, given or (without `bricks`) chosen from registered devices with the
    volume's brick size; they are created (and started when the volume runs). Then rebalance."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.expand(session, access=access, cluster=c, volume=vol, request=_request(body),
                      port_base=settings.brick_port_base, port_last=settings.brick_port_last)
    chosen = "" if body.bricks else " (bricks chosen from registered devices)"
    return present.volume(session, vol, f"Volume expand request sent{chosen}; run `kadalu volume rebalance start` "
                                        "to spread data.")


@router.post("/expand/plan", response_model=schemas.PlanPublic, responses=errors(403, 404, 409))
def plan_expand(cluster: str, volume: str, body: schemas.VolumeExpand, access: CurrentAccess, session: SessionDep):
    """Where an expand without bricks would put the new sets (`--dry-run`); nothing is stored."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    p = volume_ops.expand_plan(session, access=access, cluster=c, volume=vol, request=_request(body))
    return _plan_public(vol.name, p)


@router.post("/expand/retry", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def retry_expand(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """A failed expand (ExpandFailed): send again the brick tasks that failed, then go on."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.retry(session, access=access, volume=vol)
    return present.volume(session, vol, "Volume expand retried: the bricks that failed are tried again.")


@router.post("/expand/abort", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def abort_expand(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """A failed expand (ExpandFailed): take its bricks out again (their gluster state is removed, their
    files stay) and return the volume to the state it was in."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.abort(session, access=access, volume=vol)
    return present.volume(session, vol, "Volume expand abort sent: the new bricks are taken out again.")


@router.post("/options", response_model=schemas.VolumePublic, status_code=SENT, responses=errors(403, 404, 409))
def change_options(cluster: str, volume: str, body: schemas.OptionsChange, access: CurrentAccess, session: SessionDep):
    """Set and reset options. Brick-side changes on a Started volume restart one brick of every set
    at a time (state Reconfiguring); client-side changes reach clients through the volfile servers.
    `warnings` lists the options just set that change nothing on this volume, with the reason."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    made = volume_ops.change(session, access=access, volume=vol,
                             request=volume_ops.OptionsRequest(set=body.set, reset=body.reset))
    note = "bricks restart one per set" if made else "stored; clients pick up client-side options live"
    out = present.volume(session, vol, f"Volume options changed: {note}.")
    out.warnings = volume_options.warnings(session, vol, list(body.set))
    return out


@router.get("/options", response_model=schemas.ListOf[schemas.OptionPublic], responses=errors(404))
def read_options(cluster: str, volume: str, access: CurrentAccess, session: SessionDep, name: str | None = None):
    """Every option (or one): value, default, whether changed, what it accepts, the graphs it applies to."""
    c = clusters.get_visible(session, access, cluster)
    rows = volume_options.listing(volumes.get(session, access, c, volume), name)
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("/rebalance/start", response_model=schemas.RebalanceStatus, status_code=SENT,
             responses=errors(403, 404, 409))
def start_rebalance(cluster: str, volume: str, access: CurrentAccess, session: SessionDep,
                    body: schemas.RebalanceStart | None = None):
    """Fix the layout and move files onto new sets; each node moves the files on its own bricks."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    rebalance.start(session, access=access, volume=vol, fix_layout_only=bool(body and body.fix_layout_only))
    return rebalance.status(session, vol)


@router.post("/rebalance/stop", response_model=schemas.RebalanceStatus, status_code=SENT,
             responses=errors(403, 404, 409))
def stop_rebalance(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """Stop moving files (safe: a later start resumes, skipping what already moved)."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    rebalance.stop(session, access=access, volume=vol)
    return rebalance.status(session, vol)


@router.get("/rebalance", response_model=schemas.RebalanceStatus, responses=errors(404))
def read_rebalance(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    return rebalance.status(session, volumes.get(session, access, c, volume))
