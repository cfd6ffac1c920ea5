"""The preconditions of `geo-replication create`: every refusal says what to fix, and nothing is
written before all of them pass."""
from dataclasses import dataclass

from sqlmodel import Session, col, select

from contracts import checks
from contracts.georep_specs import check_user
from contracts.states import VOLUME_IN_PROGRESS, NodeState, VolumeState
from controlplane.models import Cluster, GeoRepSession, Node, Volume
from controlplane.services import volumes
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.volume_specs import bricks_of, refs
from controlplane.services.volume_usage import usage


@dataclass(frozen=True)
class CreateRequest:
    master_volume: str
    remote_volume: str
    remote_user: str = "root"
    remote_cluster: str | None = None  # a cluster of this control plane
    remote_host: str | None = None  # a remote managed elsewhere: the address the master nodes ssh to
    ssh_port: int = 22
    force: bool = False  # the remote volume may hold files, or be smaller
    start: bool = True


@dataclass(frozen=True)
class Checked:
    master: Volume
    remote: Volume | None
    remote_cluster: Cluster | None
    remote_host: str
    remote_user: str
    remote_key: str


def _offline(session: Session, volume: Volume) -> list[str]:
    ids = sorted({b.node_id for b in bricks_of(session, volume)})
    if not ids:
        return []
    return sorted(n.name for n in session.exec(select(Node).where(col(Node.id).in_(ids))) if n.state != NodeState.ONLINE)


def _remote_in_plane(session: Session, access: Access, req: CreateRequest, master: Volume) -> tuple[Cluster, Volume, str]:
    name = req.remote_cluster or ""
    cluster = session.exec(select(Cluster).where(col(Cluster.name) == name)).first()
    if cluster is None or not access.sees_cluster(cluster.id):
        raise NotFound(f"remote cluster {name!r} not found: `kadalu cluster list` shows the clusters you can see "
                       "(a remote managed elsewhere: give --remote-host instead)")
    try:
        remote = volumes.get(session, access, cluster, req.remote_volume)
    except NotFound:
        raise NotFound(f"remote volume {req.remote_volume!r} not found in cluster {name!r}: create it first "
                       f"(`kadalu volume create -c {name} {req.remote_volume} ...`)") from None
    if remote.id == master.id:
        raise Invalid("the remote volume is the master volume: give another volume")
    access.require(WRITE, cluster.id, f"prepare remote volume {remote.name!r} for geo-replication", refs(remote))
    if remote.state != VolumeState.STARTED:
        raise Conflict(f"remote volume {remote.name!r} is {remote.state}: start it first "
                       f"(`kadalu volume start -c {name} {remote.name}`)")
    down = _offline(session, remote)
    if down:
        raise Conflict(f"remote volume {remote.name!r} cannot be reached: its nodes {', '.join(down)} are not Online; "
                       "bring their agents up, then retry")
    m, r = usage(master, bricks_of(session, master)), usage(remote, bricks_of(session, remote))
    if not req.force and m.reported and r.reported and r.size_bytes < m.size_bytes:
        raise Conflict(f"remote volume {remote.name!r} ({r.size_bytes} bytes) is smaller than master volume "
                       f"{master.name!r} ({m.size_bytes} bytes): expand it, or give --force")
    fed = session.exec(select(GeoRepSession).where(col(GeoRepSession.remote_volume_id) == remote.id,
                                                   col(GeoRepSession.master_volume_id) != master.id)).first()
    if fed is not None:
        raise Conflict(f"remote volume {remote.name!r} receives geo-replication session {fed.id} already: two sessions "
                       "writing into one volume would undo each other; give another remote volume")
    bricks = bricks_of(session, remote)
    node = session.get(Node, bricks[0].node_id) if bricks else None
    if node is None:
        raise Conflict(f"remote volume {remote.name!r} has no bricks")
    return cluster, remote, node.address


def check_create(session: Session, access: Access, cluster: Cluster, req: CreateRequest) -> Checked:
    master = volumes.get(session, access, cluster, req.master_volume)
    access.require(WRITE, cluster.id, f"create a geo-replication session of volume {master.name!r}", refs(master))
    try:
        user = check_user(req.remote_user)
        checks.check_name(req.remote_volume, "remote volume name")
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if user != "root":
        raise Invalid(f"remote user {user!r}: gsyncd's remote side mounts the remote volume, which needs root "
                      "(glusterd's mountbroker for other users does not exist without glusterd); give --remote-user root")
    if not 1 <= req.ssh_port <= 65535:
        raise Invalid(f"ssh port {req.ssh_port} is not 1-65535")
    if master.state in VOLUME_IN_PROGRESS:
        raise Conflict(f"master volume {master.name!r} is {master.state} (another request is in progress): wait for "
                       "it to finish, then retry")
    if master.state != VolumeState.STARTED:
        raise Conflict(f"master volume {master.name!r} is {master.state}: start it first "
                       f"(`kadalu volume start -c {cluster.name} {master.name}`)")
    down = _offline(session, master)
    if down:
        raise Conflict(f"master volume {master.name!r}: nodes {', '.join(down)} are not Online; every master node "
                       "runs a gsyncd monitor: bring their agents up, then retry")
    if bool(req.remote_cluster) == bool(req.remote_host):
        raise Invalid("give the remote as either --remote-cluster (a cluster of this control plane) or --remote-host "
                      "(a remote managed elsewhere), not both and not neither")
    remote_cluster: Cluster | None = None
    remote: Volume | None = None
    if req.remote_cluster:
        remote_cluster, remote, host = _remote_in_plane(session, access, req, master)
        key = f"{remote_cluster.id}::{remote.id}"
    else:
        try:
            host = checks.check_address(req.remote_host or "")
        except ValueError as exc:
            raise Invalid(f"--remote-host: {exc}") from None
        key = f"{host}::{req.remote_volume}"
    taken = session.exec(select(GeoRepSession).where(col(GeoRepSession.master_volume_id) == master.id,
                                                     col(GeoRepSession.remote_key) == key)).first()
    if taken is not None:
        raise Conflict(f"a geo-replication session from {master.name!r} to {req.remote_volume!r} exists already "
                       f"(ID {taken.id}, {taken.state}): use it, or delete it first")
    return Checked(master=master, remote=remote, remote_cluster=remote_cluster, remote_host=host, remote_user=user,
                   remote_key=key)
