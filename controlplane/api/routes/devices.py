from fastapi import APIRouter, Response, status

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, Cursor, Limit, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, devices, nodes, pages

router = APIRouter(prefix="/clusters/{cluster}", tags=["devices"])


@router.get("/devices", response_model=schemas.ListOf[schemas.DevicePublic], responses=errors(404))
def read_devices(cluster: str, access: CurrentAccess, session: SessionDep, node: str | None = None,
                 limit: Limit = pages.DEFAULT_LIMIT, cursor: Cursor = None):
    """Devices by node name and path, `limit` per page; `next_cursor` continues (docs/api.md, Pagination)."""
    c = clusters.get_visible(session, access, cluster)
    n = nodes.get(session, c, node) if node else None
    devs, after = devices.page_visible(session, access, c, n, limit, cursor)
    rows = present.devices(session, c.id, devs)
    return schemas.ListOf(data=rows, count=len(rows), next_cursor=after)


@router.post("/nodes/{node}/devices", response_model=schemas.DeviceTask, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404, 409))
def create_device(cluster: str, node: str, body: schemas.DeviceCreate, access: CurrentAccess, session: SessionDep):
    """Register a directory (`path`) or a block device (`device`); the node's agent validates it."""
    c = clusters.get_visible(session, access, cluster)
    dev, task = devices.add(session, access=access, cluster=c, node=nodes.get(session, c, node), path=body.path,
                            device=body.device)
    return schemas.DeviceTask(device=present.devices(session, c.id, [dev])[0],
                              task=present.tasks(session, access, c.id, [task])[0])


@router.delete("/devices/{device_id}", response_model=schemas.DeviceTask, status_code=status.HTTP_202_ACCEPTED,
               responses=errors(403, 404, 409))
def delete_device(cluster: str, device_id: str, access: CurrentAccess, session: SessionDep, force: bool = False):
    """Unregister a device (the agent removes its marker); `force=true` drops the row without the agent."""
    c = clusters.get_visible(session, access, cluster)
    dev = devices.get(session, access, c, device_id)
    shown = present.devices(session, c.id, [dev])[0]
    task = devices.remove(session, access=access, cluster=c, dev=dev, force=force)
    if task is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    shown.state = "Removing"
    return schemas.DeviceTask(device=shown, task=present.tasks(session, access, c.id, [task])[0])
