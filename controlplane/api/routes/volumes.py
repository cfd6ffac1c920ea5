from fastapi import APIRouter, status
from fastapi.responses import PlainTextResponse

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, Cursor, Limit, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import client_access, clusters, pages, provisioning, volume_ops, volume_plan, volumes
from controlplane.services.access import WRITE
from controlplane.services.errors import Invalid
from controlplane.services.names import check_name

router = APIRouter(prefix="/clusters/{cluster}/volumes", tags=["volumes"])


@router.get("", response_model=schemas.ListOf[schemas.VolumePublic], responses=errors(404))
def read_volumes(cluster: str, access: CurrentAccess, session: SessionDep, limit: Limit = pages.DEFAULT_LIMIT,
                 cursor: Cursor = None):
    """Volumes by name, `limit` per page; `next_cursor` continues (docs/api.md, Pagination)."""
    c = clusters.get_visible(session, access, cluster)
    vols, after = volumes.page_visible(session, access, c, limit, cursor)
    return schemas.ListOf(data=present.volume_list(session, vols), count=len(vols), next_cursor=after)


@router.post("", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def create_volume(cluster: str, body: schemas.VolumeCreate, access: CurrentAccess, session: SessionDep,
                  settings: SettingsDep):
    """Plan and create a volume; it starts when its bricks are created unless `start` is false."""
    c = clusters.get_visible(session, access, cluster)
    request = volume_ops.CreateRequest(**body.model_dump())
    vol, _ = volume_ops.create(session, access=access, cluster=c, request=request,
                               port_base=settings.brick_port_base, port_last=settings.brick_port_last)
    return present.volume(session, vol, "Volume create request sent.")


@router.post("/plan", response_model=schemas.PlanPublic, responses=errors(403, 404, 409))
def plan_volume(cluster: str, body: schemas.VolumeCreate, access: CurrentAccess, session: SessionDep):
    """Where `create` with `size` would put the bricks (`--dry-run`); nothing is stored."""
    c = clusters.get_visible(session, access, cluster)
    access.require(WRITE, c.id, f"plan volume {body.name!r}")
    if body.size is None:
        raise Invalid("a plan needs a `size` (e.g. 100GiB)")
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
def start_volume(cluster: str, volume: str, access: CurrentAccess, session: SessionDep,
                 body: schemas.VolumeStart | None = None):
    """Start every brick (and the self-heal daemons); with `force`, a Started volume restarts its missing bricks."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.start(session, access=access, volume=vol, request=volume_ops.StartRequest(force=bool(body and body.force)))
    return present.volume(session, vol, "Volume start request sent.")


@router.post("/{volume}/stop", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def stop_volume(cluster: str, volume: str, access: CurrentAccess, session: SessionDep,
                body: schemas.VolumeStop | None = None):
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.stop(session, access=access, volume=vol)
    return present.volume(session, vol, "Volume stop request sent.")


@router.delete("/{volume}", response_model=schemas.VolumePublic, status_code=status.HTTP_202_ACCEPTED,
               responses=errors(403, 404, 409))
def delete_volume(cluster: str, volume: str, access: CurrentAccess, session: SessionDep, purge: bool = False):
    """Delete the volume's bricks' gluster state; the data stays in the brick directories unless `purge`."""
    c = clusters.get_visible(session, access, cluster)
    vol = volumes.get(session, access, c, volume)
    volume_ops.delete(session, access=access, volume=vol, purge=purge)
    left = "brick directories and their content are removed" if purge else (
        "the files stay in the brick directories (delete with `purge` to remove them)")
    return present.volume(session, vol, f"Volume delete request sent; {left}.")


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
