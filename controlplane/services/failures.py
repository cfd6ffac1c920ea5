"""The failure report: the latest failure per (volume or device, node), with how to fix it,
plus tasks waiting on Unreachable nodes; of the tasks the user sees (services.visibility)."""
from sqlalchemy import false, or_
from sqlmodel import Session, col, select

from contracts.task_kinds import Phase
from controlplane.models import Cluster, Node, Task, Volume
from controlplane.services import visibility
from controlplane.services.access import Access
from controlplane.services.tasks import ACTIVE

# errno (or agent code) -> how to fix, for failures whose agent gave no hint of its own
HOW_TO_FIX = {
    "ENOENT": "the parent directory does not exist on the node: create it (mkdir -p PARENT) or fix the path, then retry",
    "EEXIST": "the directory carries another volume's id (a stale brick): if that volume is gone, run "
              "`setfattr -x trusted.glusterfs.volume-id PATH` and remove PATH/.glusterfs, then retry",
    "EADDRINUSE": "the brick port is taken by another process on the node: stop that process (`ss -ltnp`) "
                  "or delete and re-create the volume to get another port",
    "EACCES": "permission denied: run kadalu-agent as root and check the directory is writable and not mounted read-only",
    "EPERM": "operation not permitted: run kadalu-agent as root (trusted.* xattrs need CAP_SYS_ADMIN)",
    "ENOTSUP": "the file system does not support trusted xattrs: put bricks on XFS, ext4 or btrfs (not tmpfs/overlay)",
    "ENOSPC": "the device is full: free space on it, or add bricks on another device",
    "brick_start_failed": "the brick process exited while starting: read the log tail above (and the brick log on the node)",
    "node_unreachable": "the node's agent sends no heartbeat: start kadalu-agent on it and check it reaches the broker; "
                        "its tasks run as soon as it returns",
}


def hint_for(error: dict | None) -> str:
    if not error:
        return ""
    return error.get("hint") or HOW_TO_FIX.get(error.get("errno") or "", "") or HOW_TO_FIX.get(error.get("code") or "", "")


def report(session: Session, access: Access, cluster_ids: list[str], limit: int) -> list[dict]:
    views = {cid: visibility.scope(access, cid) for cid in cluster_ids}
    visible = or_(*(v.task_clause() for v in views.values())) if views else false()
    clusters = dict(session.exec(select(Cluster.id, Cluster.name).where(col(Cluster.id).in_(cluster_ids))).all())
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.cluster_id).in_(cluster_ids)))}
    volumes = dict(session.exec(select(Volume.id, Volume.name).where(col(Volume.cluster_id).in_(cluster_ids))).all())
    rows = []
    seen: set[tuple[str, str]] = set()
    failed = session.exec(
        select(Task).where(visible, col(Task.phase) == Phase.FAILED.value)
        .order_by(col(Task.finished_at).desc()).limit(max(limit * 10, 100))
    )
    for task in failed:
        if not views[task.cluster_id].sees_task(task):
            continue
        subject = task.volume_id or task.spec.get("device_id") or task.id
        if (subject, task.node_id) in seen:
            continue  # only the latest failure per (volume or device, node)
        seen.add((subject, task.node_id))
        error = task.error or {}
        rows.append(_row(task, clusters, nodes, volumes, error.get("errno"), error.get("code", ""),
                         error.get("message", task.reason), hint_for(error), task.finished_at))
    waiting = session.exec(
        select(Task).join(Node, col(Node.id) == Task.node_id)
        .where(visible, col(Task.phase).in_(ACTIVE), col(Node.state) == "Unreachable")
        .order_by(col(Task.created_at).desc())
    )
    for task in waiting:
        if not views[task.cluster_id].sees_task(task):
            continue
        node = nodes.get(task.node_id)
        msg = f"{task.kind} waits: node {node.name if node else task.node_id} is Unreachable"
        rows.append(_row(task, clusters, nodes, volumes, "ENODE_UNREACHABLE", "node_unreachable", msg,
                         HOW_TO_FIX["node_unreachable"], task.created_at))
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return rows[:limit]


def _row(task, clusters, nodes, volumes, errno, code, message, hint, when) -> dict:
    node = nodes.get(task.node_id)
    return {
        "task_id": task.id, "cluster": clusters.get(task.cluster_id, task.cluster_id),
        "volume": volumes.get(task.volume_id) if task.volume_id else None,
        "node": node.name if node else task.node_id, "kind": task.kind, "errno": errno, "code": code,
        "message": message, "hint": hint, "created_at": when,
    }
