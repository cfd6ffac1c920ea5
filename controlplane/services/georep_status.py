"""What a session looks like from outside: its rows with names, and its workers' last reports."""
from sqlmodel import Session, col, select

from contracts.states import GeoRepWorkerStatus, NodeState, georep_settled
from controlplane.models import Brick, Cluster, GeoRepSession, GeoRepWorker, Node
from controlplane.services.georep_steps import master_volume

WORKER_FIELDS = ("subvol", "role", "crawl_status", "last_synced", "entry", "data", "meta", "failures",
                 "checkpoint_completed", "checkpoint_completion_time", "reported_at")


def workers(session: Session, geo: GeoRepSession) -> list[dict]:
    rows = list(session.exec(select(GeoRepWorker).where(col(GeoRepWorker.session_id) == geo.id)))
    bricks = {b.id: b for b in session.exec(select(Brick).where(col(Brick.id).in_([w.brick_id for w in rows])))}
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_([w.node_id for w in rows])))}
    out = []
    for w in rows:
        node = nodes.get(w.node_id)
        online = node is not None and node.state == NodeState.ONLINE
        out.append({"node": node.name if node else w.node_id, "brick": bricks[w.brick_id].path if w.brick_id in bricks else "",
                    "status": w.status if online else GeoRepWorkerStatus.OFFLINE,
                    **{k: getattr(w, k) for k in WORKER_FIELDS}})
    return sorted(out, key=lambda r: (r["subvol"], r["node"], r["brick"]))


def public(session: Session, geo: GeoRepSession, message: str = "", with_workers: bool = False) -> dict:
    cluster = session.get(Cluster, geo.cluster_id)
    remote_cluster = session.get(Cluster, geo.remote_cluster_id) if geo.remote_cluster_id else None
    return {
        "id": geo.id, "cluster": cluster.name if cluster else geo.cluster_id,
        "master_volume": master_volume(session, geo).name,
        "remote_cluster": remote_cluster.name if remote_cluster else None, "remote_volume": geo.remote_volume,
        "remote_host": geo.remote_host, "remote_user": geo.remote_user, "ssh_port": geo.ssh_port, "state": geo.state,
        "settled": georep_settled(geo.state), "reason": geo.reason,
        "checkpoint": int(geo.config.get("checkpoint", 0) or 0),
        "config": {k: str(v) for k, v in geo.config.items()}, "created_at": geo.created_at,
        "updated_at": geo.updated_at, "message": message,
        "workers": workers(session, geo) if with_workers else [],
    }
