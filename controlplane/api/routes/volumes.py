from fastapi import APIRouter, Request, status
from fastapi.responses import PlainTextResponse

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import (client_access, clusters, provisioning, rebalance, tasks, volume_expand, volume_options,
                                   volume_plan, volumes)
from controlplane.services.access import WRITE
from controlplane.services.names import check_name
from controlplane.services.errors import Conflict, Invalid

router = APIRouter(prefix="/clusters/{cluster}/volumes", tags=["volumes"])


@router.get("", response_model=schemas.ListOf[schemas.VolumePublic], responses=errors(404))
def read_volumes(cluster: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    rows = [present.volume(session, v) for v in volumes.list_visible(session, access, c)]
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def create_volume(cluster: str, body: schemas.VolumeCreate, request: Request, access: CurrentAccess,
                  session: SessionDep, settings: SettingsDep):
    """Plan and create a volume; it starts when its bricks are created unless `start` is false."""
    c = clusters.get_visible(session, access, cluster)
    vol, new = volumes.create(session, access, c, settings, body.name, body.bricks, body.replica, body.arbiter,
                              body.disperse, body.redundancy, body.force, body.start, body.size, body.distribute,
                              body.options)
    tasks.send(session, request.app.state.sender, new)
    return present.volume(session, vol, "Volume create request sent.")


@router.post("/plan", response_model=schemas.PlanPublic, responses=errors(403, 404, 409))
def plan_volume(cluster: str, body: schemas.VolumeCreate, access: CurrentAccess, session: SessionDep):
    """Where `create` with `size` would put the bricks (`--dry-run`); nothing is stored."""
    c = clusters.get_visible(session, access, cluster)
    access.require(WRITE, c.id, f"plan volume {body.name!r}")
    if body.size is None:
        raise Invalid("a plan needs a size (e.g. 100GiB)")
    check_name("volume", body.name)
    lay = volume_plan.layout(body.replica, body.arbiter, body.disperse, body.redundancy)
    try:
        p = provisioning.plan(session, c, body.name, body.size, lay, body.distribute)
    finally:
        session.rollback()  # releases the planning lock; nothing was written
    return schemas.PlanPublic(
        volume=body.name, brick_size=p.brick_size, set_size=p.set_size, set_count=p.set_count,
        arbiter_size=p.arbiter_size, total_bytes=p.total_bytes, notes=list(p.notes), lines=p.describe(),
        bricks=[schemas.PlannedBrickPublic(node=b.node_name, path=b.path, size_bytes=b.size_bytes, set=b.set_index + 1,
                                           arbiter=b.arbiter) for b in p.bricks],
    )


@router.get("/{volume}", response_model=schemas.VolumePublic, responses=errors(404))
def read_volume(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    return present.volume(session, volumes.get(session, access, c, volume))


@router.post("/{volume}/start", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def start_volume(cluster: str, volume: str, request: Request, access: CurrentAccess, session: SessionDep,
                 body: schemas.VolumeStart | None = None):
    """Start every brick (and the self-heal daemons); with `force`, a Started volume restarts its missing bricks."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    force = bool(body and body.force)
    if vol.state == "Started" and not force:
        raise Conflict(f"volume {volume!r} is already Started: use --force to restart bricks that are not running")
    new = volumes.begin(session, access, vol, "Starting", force=force)
    tasks.send(session, request.app.state.sender, new)
    return present.volume(session, vol, "Volume start request sent.")


@router.post("/{volume}/stop", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def stop_volume(cluster: str, volume: str, request: Request, access: CurrentAccess, session: SessionDep,
                body: schemas.VolumeStop | None = None):
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = volumes.begin(session, access, vol, "Stopping")
    tasks.send(session, request.app.state.sender, new)
    return present.volume(session, vol, "Volume stop request sent.")


@router.delete("/{volume}", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
               responses=errors(403, 404, 409))
def delete_volume(cluster: str, volume: str, request: Request, access: CurrentAccess, session: SessionDep,
                  purge: bool = False):
    """Delete the volume's bricks' gluster state; the data stays in the brick directories unless `purge`."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = volumes.begin(session, access, vol, "Deleting", purge=purge)
    tasks.send(session, request.app.state.sender, new)
    left = "brick directories and their content are removed" if purge else (
        "the files stay in the brick directories (use --purge to remove them)")
    return present.volume(session, vol, f"Volume delete request sent; {left}.")


@router.post("/{volume}/expand", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def expand_volume(cluster: str, volume: str, body: schemas.VolumeExpand, request: Request, access: CurrentAccess,
                  session: SessionDep, settings: SettingsDep):
    """Add whole sets of bricks; they are created (and started when the volume runs). Then rebalance."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = volume_expand.expand(session, access, c, vol, settings, body.bricks, body.force)
    tasks.send(session, request.app.state.sender, new)
    return present.volume(session, vol, "Volume expand request sent; run `kadalu volume rebalance start` to spread data.")


@router.post("/{volume}/options", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def change_options(cluster: str, volume: str, body: schemas.OptionsChange, request: Request, access: CurrentAccess,
                   session: SessionDep):
    """Set and reset options. Brick-side changes on a Started volume restart one brick of every set
    at a time (state Reconfiguring); client-side changes show in the volfile for the next mount."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = volume_options.change(session, access, vol, body.set, body.reset)
    tasks.send(session, request.app.state.sender, new)
    note = "bricks restart one per set" if new else "stored; clients pick up client-side options when they mount again"
    return present.volume(session, vol, f"Volume options changed: {note}.")


@router.get("/{volume}/options", response_model=schemas.ListOf[schemas.OptionPublic], responses=errors(404))
def read_options(cluster: str, volume: str, access: CurrentAccess, session: SessionDep, name: str | None = None):
    """Every option (or one): value, default, whether changed, what it accepts, the graphs it applies to."""
    c = clusters.get_visible(session, access, cluster)
    rows = volume_options.listing(volumes.get(session, access, c, volume), name)
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("/{volume}/rebalance/start", response_model=schemas.RebalanceStatus, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def start_rebalance(cluster: str, volume: str, request: Request, access: CurrentAccess, session: SessionDep,
                    body: schemas.RebalanceStart | None = None):
    """Fix the layout and move files onto new sets; each node moves the files on its own bricks."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = rebalance.start(session, access, vol, bool(body and body.fix_layout_only))
    tasks.send(session, request.app.state.sender, new)
    return rebalance.status(session, vol)


@router.post("/{volume}/rebalance/stop", response_model=schemas.RebalanceStatus, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def stop_rebalance(cluster: str, volume: str, request: Request, access: CurrentAccess, session: SessionDep):
    """Stop moving files (safe: a later start resumes, skipping what already moved)."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    new = rebalance.stop(session, access, vol)
    tasks.send(session, request.app.state.sender, new)
    return rebalance.status(session, vol)


@router.get("/{volume}/rebalance", response_model=schemas.RebalanceStatus, responses=errors(404))
def read_rebalance(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    c = clusters.get_visible(session, access, cluster)
    return rebalance.status(session, volumes.get(session, access, c, volume))


@router.get("/{volume}/volfile", response_class=PlainTextResponse, responses=errors(403, 404, 409))
def read_client_volfile(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """The FUSE client volfile: `glusterfs --volfile-id VOL -f FILE MOUNTPOINT` (what `kadalu mount
    --local-volfile` runs). It holds the volume's client credentials: maintainer role needed."""
    c = clusters.get_visible(session, access, cluster)
    return PlainTextResponse(client_access.for_user(session, access, volumes.get(session, access, c, volume)))


@router.post("/{volume}/credentials", response_model=schemas.VolumePublic, responses=errors(403, 404, 409))
def rotate_client_credentials(cluster: str, volume: str, access: CurrentAccess, session: SessionDep):
    """New client credentials for a stopped volume (maintainer role); saved volfiles must be fetched again."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    client_access.rotate(session, access, vol)
    return present.volume(session, vol, "New client credentials: they apply when the volume starts; "
                                        "mount every client again (`kadalu mount`) and fetch saved volfiles again.")
