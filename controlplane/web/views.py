"""What the pages show, read through the same services and visibility rules as the API: one user's
view of a cluster (nodes, devices, volumes with usage, running tasks with progress, failures with
how to fix them, alerts) and of one volume. Plain dicts for the templates; no writes here."""
from collections import Counter

from sqlmodel import Session, col, select

from contracts.states import REBALANCE_ACTIVE, NodeState, VolumeState
from contracts.task_kinds import state_word
from controlplane.api import present
from controlplane.models import Cluster, Rebalance, Task, Volume
from controlplane.services import devices, failures, nodes, rebalance, visibility, volume_health, volume_usage, volumes
from controlplane.services.access import MANAGE, READ, WRITE, Access
from controlplane.services.tasks import ACTIVE

TRANSITIONAL = {"Creating", "Starting", "Stopping", "Deleting", "Expanding", "Reconfiguring"}


def roles(access: Access, cluster: Cluster) -> dict:
    """What the page may offer: the server refuses the rest anyway (services check the same rank)."""
    rank = access.cluster_rank(cluster.id)
    return {"write": rank >= WRITE, "manage": rank >= MANAGE, "admin": access.global_rank() >= MANAGE}


def clusters_overview(session: Session, access: Access) -> list[dict]:
    out = []
    for c in _visible_clusters(session, access):
        counts = visibility.counts(session, access, c.id)
        firing = visibility.alerts(session, access, c.id, 1000, "firing")
        out.append({"name": c.name, "nodes_by_state": counts["nodes_by_state"], "device_count": counts["device_count"],
                    "volume_count": counts["volume_count"], "firing": len(firing),
                    "critical": sum(a.severity == "critical" for a in firing)})
    return out


def _visible_clusters(session: Session, access: Access) -> list[Cluster]:
    return [c for c in session.exec(select(Cluster).order_by(Cluster.name)) if access.sees_cluster(c.id)]


def cluster_view(session: Session, access: Access, cluster: Cluster) -> dict:
    view = visibility.scope(access, cluster.id)
    node_rows = [n for n in nodes.list_nodes(session, cluster) if view.sees_node(n.id)]
    devs = devices.list_visible(session, access, cluster, None)
    by_node: dict[str, list] = {}
    for d in devs:
        by_node.setdefault(d.node_id, []).append(d)
    node_list = [{
        "name": n.name, "address": n.address, "state": n.state, "zone": n.zone,
        "heartbeat_at": n.last_heartbeat_at.isoformat() if n.last_heartbeat_at else "",
        "heartbeat_age": nodes.heartbeat_age(n), "agent_version": n.agent_version,
        "devices": [{"path": d.path, "state": d.state, "size": d.size_bytes, "free": d.free_bytes, "reason": d.reason}
                    for d in by_node.get(n.id, [])],
        "free": sum(d.free_bytes for d in by_node.get(n.id, []) if d.state == "Ready"),
    } for n in node_rows]
    states = volume_health.node_states(session, cluster.id)
    vols = [volume_summary(session, v, states) for v in volumes.list_visible(session, access, cluster)]
    active = [t for t in visibility.tasks(session, access, cluster.id, None, None, 200) if t.phase in ACTIVE]
    names = {n.id: n.name for n in nodes.list_nodes(session, cluster)}
    vol_names = dict(session.exec(select(Volume.id, Volume.name).where(col(Volume.cluster_id) == cluster.id)).all())
    tasks = [{"id": t.id, "kind": t.kind, "state": state_word(t.kind, t.phase), "node": names.get(t.node_id, t.node_id),
              "volume": vol_names.get(t.volume_id or "", ""), "created_at": t.created_at.isoformat(),
              "attempts": t.attempts} for t in active[:50]]
    alerts = present.alerts(session, cluster.id, visibility.alerts(session, access, cluster.id, 50))
    return {
        "cluster": cluster.name, "nodes": node_list, "volumes": vols, "tasks": tasks,
        "failures": failures.report(session, access, [cluster.id], 20),
        "firing": [a for a in alerts if a.state == "firing"],
        "resolved": [a for a in alerts if a.state == "resolved"][:10],
        "counts": {"online": sum(n["state"] == NodeState.ONLINE for n in node_list), "nodes": len(node_list),
                   "volumes": len(vols), "started": sum(v["state"] == VolumeState.STARTED for v in vols),
                   "tasks": len(active)},
    }


def volume_summary(session: Session, v: Volume, states: dict[str, str] | None = None) -> dict:
    """`states`: the cluster's node states, read once for a whole list."""
    bricks = volumes.bricks_of(session, v)
    states = states if states is not None else volume_health.node_states(session, v.cluster_id)
    use = volume_usage.usage(v, bricks)
    online = sum(volume_health.brick_is_online(b, states) for b in bricks)
    return {
        "name": v.name, "type": _type_label(v), "state": v.state, "health": volume_health.health(v, bricks, states),
        "size": use.size_bytes, "used": use.used_bytes, "free": use.free_bytes,
        "used_percent": round(100 * use.used_fraction) if use.used_fraction is not None else None,
        "bricks": len(bricks), "online": online, "reason": v.reason,
        "progress": _progress(session, v) if v.state in TRANSITIONAL else None,
        "rebalancing": bool(session.exec(select(Rebalance.id).where(col(Rebalance.volume_id) == v.id,
                                                                    col(Rebalance.state).in_(REBALANCE_ACTIVE))).first()),
        "waiting_for": volumes.waiting_for(session, v),
    }


def _type_label(v: Volume) -> str:
    if v.type == "disperse":
        return f"disperse {v.disperse_count - v.redundancy_count}+{v.redundancy_count}"
    if v.type == "arbiter":
        return "replica 3 arbiter 1"
    return f"replica {v.replica_count}" if v.type == "replicate" else "distribute"


def _progress(session: Session, v: Volume) -> dict | None:
    """Tasks of the request now deciding the volume's state: how many have finished."""
    if not v.operation_id:
        return None
    phases = Counter(session.exec(select(Task.phase).where(col(Task.operation_id) == v.operation_id)).all())
    total = sum(phases.values())
    done = phases.get("done", 0) + phases.get("failed", 0)
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0}


def volume_view(session: Session, access: Access, cluster: Cluster, name: str) -> dict:
    v = volumes.get(session, access, cluster, name)
    shown = present.volume(session, v)
    can_write = access.resource_rank(cluster.id, volumes.refs(v)) >= WRITE
    return {"cluster": cluster.name, "volume": volume_summary(session, v), "public": shown,
            "bricks": [b.model_dump() for b in shown.bricks], "rebalance": rebalance.status(session, v),
            "heal": {b.id: b.heal_pending for b in volumes.bricks_of(session, v)},
            "can_write": can_write, "sets": shown.brick_count // max(1, shown.set_size)}


def node_choices(session: Session, access: Access, cluster: Cluster) -> list[dict]:
    """Nodes and their Ready devices, for the volume form (bricks go inside a device)."""
    view = visibility.scope(access, cluster.id)
    out = []
    for n in nodes.list_nodes(session, cluster):
        if view.sees_node(n.id):
            ready = [d.path for d in devices.list_visible(session, access, cluster, n) if d.state == "Ready"]
            out.append({"name": n.name, "state": n.state, "devices": ready})
    return out


def can_read(access: Access, cluster: Cluster) -> bool:
    return access.cluster_rank(cluster.id) >= READ
