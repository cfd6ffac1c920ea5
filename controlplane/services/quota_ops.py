"""Quota enable and disable: operations on the volume's brick graphs, through the option change
(controlplane/services/volume_ops/reconfigure.py: live in place when the graphs keep their shape,
which they do, else rolling restarts; state Reconfiguring meanwhile).

Enable switches features/marker's quota and inode-quota and the brick's features/quota on and
bumps `features.quota-version` (volgen.quotad), as glusterd does on every enable: markers of an
earlier enable are then ignored and the usage is counted afresh. Each node with a brick of the
volume then runs the quota daemon and counts the data already there (nodeagent/quota_daemon.py,
nodeagent/quota_crawl.py), from its metadata copy. Disable switches them off, drops the volume's
limits (the nodes clean the quota xattrs off the bricks); the quota-version stays for the next
enable to bump."""
from sqlalchemy import delete
from sqlmodel import Session, col, select

from contracts.states import VolumeState
from controlplane.models import QuotaLimit, Task, Volume
from controlplane.services import metadata, quota_alerts
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.volume_ops.reconfigure import reconfigure_to
from controlplane.services.volume_ops.steps import refuse_if_busy
from controlplane.services.volume_specs import refs
from volgen.options import switch_on
from volgen.quotad import ENABLED_OPTIONS, QUOTA_VERSION, quota_version

V = VolumeState
# Where a volume's graphs can be changed (ReconfigureFailed: a retry of the change).
CHANGEABLE = frozenset({V.CREATED, V.STARTED, V.STOPPED, V.RECONFIGURE_FAILED})


def enabled(volume: Volume) -> bool:
    return switch_on({k: str(v) for k, v in volume.options.items()}, "features.quota", False)


def require_enabled(volume: Volume, cluster_name: str) -> None:
    if not enabled(volume):
        raise Conflict(f"quota is not enabled on volume {volume.name!r}: enable it first with "
                       f"`kadalu volume quota enable -c {cluster_name} {volume.name}`")


def _precheck(access: Access, volume: Volume, verb: str) -> None:
    access.require(WRITE, volume.cluster_id, f"{verb} quota on volume {volume.name!r}", refs(volume))
    refuse_if_busy(volume)
    if volume.state not in CHANGEABLE:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: quota is switched on a volume that is Created, "
                       "Started or Stopped (retry the failed request first)")


def enable(session: Session, *, access: Access, volume: Volume) -> list[Task]:
    _precheck(access, volume, "enable")
    if enabled(volume):
        raise Conflict(f"quota is already enabled on volume {volume.name!r}")
    options = {k: str(v) for k, v in volume.options.items()}
    options.update(ENABLED_OPTIONS)
    options[QUOTA_VERSION] = str(quota_version(options) + 1)
    return reconfigure_to(session, volume, options)


def disable(session: Session, *, access: Access, volume: Volume, cluster_name: str) -> list[Task]:
    _precheck(access, volume, "disable")
    require_enabled(volume, cluster_name)
    options = {k: str(v) for k, v in volume.options.items() if k not in ENABLED_OPTIONS}
    quota_alerts.resolve_all(session, volume, list(session.exec(select(QuotaLimit).where(
        col(QuotaLimit.volume_id) == volume.id))))
    session.execute(delete(QuotaLimit).where(col(QuotaLimit.volume_id) == volume.id))
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    return reconfigure_to(session, volume, options)
