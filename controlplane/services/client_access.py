"""The client volfile a user downloads (`GET .../volumes/{v}/volfile`, `kadalu mount --local-volfile`).

It carries the volume's client credentials: whoever holds it can connect to every brick and, as
a GlusterFS client sends the uid it likes, read and write every file as any user. So it is given
only to users who may change the volume (maintainer or admin on it), never to viewers."""
from sqlmodel import Session

from controlplane.models import Volume
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.volumes import refs, spec
from volgen import client_volfile

NOTHING_TO_MOUNT = ("Creating", "CreateFailed", "Deleting")


def for_user(session: Session, access: Access, volume: Volume) -> str:
    access.require(WRITE, volume.cluster_id,
                   f"download the client volfile of volume {volume.name!r} (it holds the volume's client "
                   "credentials, which give full access to its data)", refs(volume))
    if volume.state in NOTHING_TO_MOUNT:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: there is nothing to mount yet")
    return client_volfile(spec(session, volume))
