"""Geo-replication sessions from a node's metadata copy (section "georep_sessions", format in
contracts/metadata_delta.py). A session may name a remote cluster restored later in the same run,
so its rows are kept aside (`deferred`) and written once every cluster of the restore is
(controlplane/services/restore.py). Values are checked as the API checks them; the ssh keys are
on the master nodes, not in the copy: a restored session keeps using them there."""
from typing import Any

from sqlmodel import Session

from contracts import checks
from contracts.georep_config import checked_all
from contracts.georep_specs import check_user
from contracts.states import GeoRepState
from controlplane.models import Cluster, GeoRepSession

DEFERRED = "restore_georep_sessions"
# a request in flight when the copy was taken has no tasks here: the session is Faulty, and says so
INTERRUPTED = {GeoRepState.CREATING, GeoRepState.STARTING, GeoRepState.PAUSING, GeoRepState.RESUMING,
               GeoRepState.STOPPING, GeoRepState.DELETING}


def _session(cluster: Cluster, e: dict[str, Any], volumes: set[str]) -> GeoRepSession:
    state = GeoRepState(e["state"])
    if str(e["master_volume_id"]) not in volumes:
        raise ValueError(f"master volume {e['master_volume_id']!r} is not in the copy")
    remote_cluster = checks.check_uuid(e["remote_cluster_id"], "remote cluster id") if e.get("remote_cluster_id") else None
    remote_volume_id = checks.check_uuid(e["remote_volume_id"], "remote volume id") if e.get("remote_volume_id") else None
    host = checks.check_address(e["remote_host"]) if e.get("remote_host") else ""
    if not remote_cluster and not host:
        raise ValueError("neither a remote cluster nor a remote host")
    remote_volume = checks.check_name(e["remote_volume"], "remote volume")
    port = e.get("ssh_port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"ssh_port {port!r} is not a port")
    config = e.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError("config must be an object")
    key = f"{remote_cluster}::{remote_volume_id}" if remote_cluster else f"{host}::{remote_volume}"
    reason = f"restored from a node's metadata copy taken while {state}: run the request again" if state in INTERRUPTED else ""
    return GeoRepSession(id=checks.check_uuid(e["id"], "session id"), cluster_id=cluster.id,
                         master_volume_id=str(e["master_volume_id"]), remote_cluster_id=remote_cluster,
                         remote_volume_id=remote_volume_id, remote_volume=remote_volume, remote_host=host,
                         remote_user=check_user(e["remote_user"]), remote_key=key, ssh_port=port,
                         state=GeoRepState.FAULTY if state in INTERRUPTED else state, reason=reason,
                         config=checked_all({str(k): str(v) for k, v in config.items()}))


def restore_sessions(session: Session, cluster: Cluster, entries: list[dict[str, Any]], volumes: set[str]) -> int:
    rows = [_session(cluster, e, volumes) for e in entries]
    session.info.setdefault(DEFERRED, []).extend(rows)
    return len(rows)


def write_deferred(session: Session) -> None:
    """The sessions kept aside, once every cluster is written; a remote cluster not restored is refused."""
    rows: list[GeoRepSession] = session.info.pop(DEFERRED, [])
    for row in rows:
        if row.remote_cluster_id and session.get(Cluster, row.remote_cluster_id) is None:
            raise ValueError(f"geo-replication session {row.id}: its remote cluster {row.remote_cluster_id} is not "
                             "restored: give a copy of that cluster too")
    session.add_all(rows)
    session.flush()
