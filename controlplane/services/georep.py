"""Geo-replication sessions: create, start, stop, pause, resume, delete, config and checkpoint.

Every request checks the caller's role on the master volume (volume scope) and the session's state
table (transitions.GEOREP), moves the session to its in-progress state and writes its tasks in the
same transaction (sent after the commit, controlplane/services/outbox.py); georep_steps settles it.
The master volume's changelog and marker options are set with the first session of the volume and
reset with its last (through the volume's own options change: live on its bricks)."""
import time

from sqlmodel import Session, col, select

from contracts import georep_config
from contracts.georep_specs import safe_key_comment
from contracts.states import GeoRepState
from controlplane.models import Cluster, GeoRepSession, Task, Volume
from controlplane.services import metadata, volume_ops
from controlplane.services.access import READ, WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.georep_checks import CreateRequest, check_create
from controlplane.services.georep_steps import MASTER_OPTIONS, keygen_step, master_step, master_volume
from controlplane.services.transitions import GEOREP
from controlplane.services.volume_specs import refs

G = GeoRepState
REMOTE_GSYNCD = "/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd"
FORCED_OPTIONS = "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty"
__all__ = ["CreateRequest", "checkpoint", "config_get", "config_reset", "config_set", "create", "get", "lifecycle",
           "list_visible", "ssh_setup"]


def _set_master_options(session: Session, access: Access, volume: Volume, on: bool) -> None:
    """Commits (the options change does): call last, once the session's own rows and tasks are written."""
    if on:
        wanted = {k: v for k, v in MASTER_OPTIONS.items() if volume.options.get(k) != v}
        request = volume_ops.OptionsRequest(set=wanted)
    else:
        request = volume_ops.OptionsRequest(reset=[k for k in MASTER_OPTIONS if k in volume.options])
    if request.set or request.reset:
        volume_ops.change(session, access=access, volume=volume, request=request)
    else:
        session.commit()


def create(session: Session, *, access: Access, cluster: Cluster, request: CreateRequest) -> tuple[GeoRepSession, list[Task]]:
    ok = check_create(session, access, cluster, request)
    geo = GeoRepSession(cluster_id=cluster.id, master_volume_id=ok.master.id,
                        remote_cluster_id=ok.remote_cluster.id if ok.remote_cluster else None,
                        remote_volume_id=ok.remote.id if ok.remote else None, remote_volume=request.remote_volume,
                        remote_host=ok.remote_host, remote_user=ok.remote_user, remote_key=ok.remote_key,
                        ssh_port=request.ssh_port, start_after_create=request.start, force=request.force,
                        state=G.CREATING)
    session.add(geo)
    session.flush()
    made = keygen_step(session, geo)
    metadata.changed(session, cluster.id, georep_id=geo.id)
    _set_master_options(session, access, ok.master, True)
    return geo, made


def _visible(access: Access, volume: Volume) -> bool:
    return access.sees_resource(volume.cluster_id, refs(volume))


def get(session: Session, access: Access, cluster: Cluster, session_id: str) -> GeoRepSession:
    geo = session.get(GeoRepSession, session_id.strip().lower()[:36])
    if geo is None or geo.cluster_id != cluster.id or not _visible(access, master_volume(session, geo)):
        raise NotFound(f"geo-replication session {session_id[:40]!r} not found in cluster {cluster.name!r}: "
                       f"`kadalu geo-replication list -c {cluster.name}` shows the sessions you can see")
    return geo


def list_visible(session: Session, access: Access, cluster: Cluster) -> list[GeoRepSession]:
    rows = session.exec(select(GeoRepSession).where(col(GeoRepSession.cluster_id) == cluster.id)
                        .order_by(col(GeoRepSession.created_at)))
    return [g for g in rows if _visible(access, master_volume(session, g))]


def _require(access: Access, session: Session, geo: GeoRepSession, needed: int, what: str) -> Volume:
    vol = master_volume(session, geo)
    access.require(needed, geo.cluster_id, f"{what} geo-replication session {geo.id} of volume {vol.name!r}", refs(vol))
    return vol


# verb -> the state its request runs in
VERBS = {"start": G.STARTING, "stop": G.STOPPING, "pause": G.PAUSING, "resume": G.RESUMING, "delete": G.DELETING}


def lifecycle(session: Session, *, access: Access, geo: GeoRepSession, verb: str) -> list[Task]:
    """start / stop / pause / resume / delete."""
    vol = _require(access, session, geo, WRITE, verb)
    state = VERBS[verb]
    GEOREP.check(geo, state)
    if verb == "start" and geo.state == G.STARTED:
        raise Conflict(f"geo-replication session {geo.id} is Started already")
    made = master_step(session, geo, state)
    if verb == "delete":
        others = session.exec(select(GeoRepSession.id).where(col(GeoRepSession.master_volume_id) == vol.id,
                                                             col(GeoRepSession.id) != geo.id)).first()
        if others is None:
            _set_master_options(session, access, vol, False)
            return made
    if verb == "start":
        _set_master_options(session, access, vol, True)  # a Faulty session's volume may have lost them
        return made
    session.commit()
    return made


def config_get(session: Session, *, access: Access, geo: GeoRepSession, name: str | None = None) -> list[dict]:
    _require(access, session, geo, READ, "read the config of")
    names = [name] if name else sorted(georep_config.CONFIGURABLE)
    out = []
    for n in names:
        try:
            key = georep_config.check_name(n)
        except georep_config.ConfigRefused as exc:
            raise NotFound(str(exc)) from None
        value = geo.config.get(n)
        out.append({"name": n, "value": str(value) if value is not None else key.default, "default": key.default,
                    "changed": value is not None, "type": key.kind, "help": key.help,
                    **({"choices": list(key.choices)} if key.choices else {})})
    return out


def _apply_config(session: Session, geo: GeoRepSession, config: dict[str, str]) -> list[Task]:
    """Store; a running session's monitors get the new config file (GEOREP_START again)."""
    if geo.state in GEOREP.in_progress:
        raise Conflict(f"geo-replication session {geo.id} is {geo.state} (another request is in progress): wait for "
                       "it to finish, then retry")
    geo.config = config
    session.add(geo)
    metadata.changed(session, geo.cluster_id, georep_id=geo.id)
    made = master_step(session, geo, G.STARTING) if geo.state == G.STARTED else []
    session.commit()
    return made


def config_set(session: Session, *, access: Access, geo: GeoRepSession, name: str, value: str) -> list[Task]:
    _require(access, session, geo, WRITE, "change the config of")
    if name == "checkpoint":
        raise Invalid("set a checkpoint with `kadalu geo-replication checkpoint ID` (it takes the current time)")
    try:
        checked = georep_config.check(name, value)
    except georep_config.ConfigRefused as exc:
        raise Invalid(str(exc)) from None
    return _apply_config(session, geo, {**geo.config, name: checked})


def config_reset(session: Session, *, access: Access, geo: GeoRepSession, name: str | None) -> list[Task]:
    """One key back to its default, or (no name) every key."""
    _require(access, session, geo, WRITE, "reset the config of")
    if name is not None:
        try:
            georep_config.check_name(name)
        except georep_config.ConfigRefused as exc:
            raise Invalid(str(exc)) from None
    return _apply_config(session, geo, {} if name is None else {k: v for k, v in geo.config.items() if k != name})


def checkpoint(session: Session, *, access: Access, geo: GeoRepSession, now: float | None = None) -> tuple[int, list[Task]]:
    """Mark now: status shows per worker whether everything written before it reached the remote."""
    _require(access, session, geo, WRITE, "set a checkpoint on")
    if geo.state != G.STARTED:
        raise Conflict(f"geo-replication session {geo.id} is {geo.state}: a checkpoint is set on a Started session "
                       "(`kadalu geo-replication start ID`)")
    mark = int(now if now is not None else time.time())
    return mark, _apply_config(session, geo, {**geo.config, "checkpoint": str(mark)})


def ssh_setup(session: Session, *, access: Access, geo: GeoRepSession) -> dict:
    """For a remote managed elsewhere: the authorized_keys lines its `remote_user` needs, each
    limited to glusterd's gsyncd wrapper (which runs only gsyncd, rsync and gluster for a key)."""
    _require(access, session, geo, WRITE, "set up ssh for")
    if geo.remote_volume_id is not None:
        raise Conflict(f"geo-replication session {geo.id}: its remote is managed by this control plane, which set up "
                       "ssh itself; ssh-setup is for a remote given with --remote-host")
    if not geo.public_keys:
        raise Conflict(f"geo-replication session {geo.id} is {geo.state}: the master nodes have not made its keys yet; "
                       "retry when it is no longer Creating")
    lines = [f'command="{REMOTE_GSYNCD}",{FORCED_OPTIONS} {key} {safe_key_comment(geo.id)}'
             for key in sorted(set(geo.public_keys.values()))]
    return {"id": geo.id, "remote_user": geo.remote_user, "remote_host": geo.remote_host, "lines": lines}
