"""Who may act as a client of a volume: the client volfile a user downloads (`GET .../volumes/{v}/volfile`,
`kadalu mount --local-volfile`), and changing the volume's client credentials.

The volfile carries the volume's client credentials: whoever holds it can connect to every brick
and, as a GlusterFS client sends the uid it likes, read and write every file as any user. So it
is given only to users who may change the volume (maintainer or admin on it), never to viewers."""
import uuid

from sqlmodel import Session

from controlplane.models import Volume
from controlplane.services import metadata
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.volume_specs import refs, spec
from volgen import client_volfile

NOTHING_TO_MOUNT = ("Creating", "CreateFailed", "Deleting")
# Bricks read the credentials only when they start: change them while none runs, so no brick
# keeps accepting the old ones and no client is locked out of half a replica set.
ROTATABLE = ("Created", "Stopped", "StartFailed", "StopFailed")


def for_user(session: Session, access: Access, volume: Volume) -> str:
    access.require(WRITE, volume.cluster_id,
                   f"download the client volfile of volume {volume.name!r} (it holds the volume's client "
                   "credentials, which give full access to its data)", refs(volume))
    if volume.state in NOTHING_TO_MOUNT:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: there is nothing to mount yet")
    return client_volfile(spec(session, volume))


def rotate(session: Session, access: Access, volume: Volume) -> None:
    """New client credentials for a volume whose bricks are not running. Agents get them with the
    metadata and start the bricks with them. Every client must fetch the volfile again (mount
    again): GlusterFS applies a changed password only to a new graph, so a mount left in place is
    refused at the start and ends itself."""
    access.require(WRITE, volume.cluster_id, f"change the client credentials of volume {volume.name!r}", refs(volume))
    if volume.state not in ROTATABLE:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: stop it first (`kadalu volume stop "
                       f"{volume.name}`); bricks take new credentials only when they start")
    volume.auth_username, volume.auth_password = str(uuid.uuid4()), str(uuid.uuid4())
    session.add(volume)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    session.commit()
