"""Quota limits: stored here, applied through a node, usage reported back by the nodes.

A limit (QuotaLimit row) is written `applying` and a QUOTA_LIMIT task goes to one node holding a
brick of the volume (an Online one first); its agent sets the limit xattrs on its `--client-pid -5`
mount of the volume. A path that does not exist there fails the task: the control plane then puts
the limit back as it was (a new one is deleted) and records why. `quota list` answers from the
rows; the usage in them is what the volume's reporting node (contracts.quota.usage_reporter) last
read and sent in its heartbeat. Soft and hard limits crossed raise alerts (quota_alerts.py)."""
from dataclasses import dataclass

from sqlmodel import Session, col, select

from contracts.messages import QuotaUsageReport
from contracts.quota import DEFAULT_SOFT_PERCENT, MAX_BYTES, MAX_LIMITS_PER_VOLUME, quota_path_problem, usage_reporter
from contracts.sizes import SizeError, format_size, parse_size
from contracts.states import NodeState, VolumeState
from contracts.task_kinds import Phase, TaskKind
from contracts.task_specs import QuotaLimitSpec
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Node, QuotaLimit, Task, Volume
from controlplane.services import metadata, quota_alerts, tasks
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.quota_ops import enabled, require_enabled
from controlplane.services.volume_specs import bricks_of, refs, spec
from volgen.quotad import quota_version


@dataclass(frozen=True)
class LimitRequest:
    path: str
    hard: str | None = None  # limit-usage: a size ("10GiB")
    soft: str | None = None  # "80%" (of the hard limit)
    objects: int | None = None  # limit-objects: files and directories


def check_path(path: str) -> str:
    problem = quota_path_problem(path)
    if problem:
        raise Invalid(f"path {str(path)[:120]!r} {problem}")
    return path


def parse_soft(text: str | None) -> int | None:
    if text is None:
        return None
    raw = text.strip().removesuffix("%").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise Invalid(f"soft limit {text[:40]!r}: give a percentage of the hard limit from 1% to 100%, e.g. 80%")
    return int(raw)


def _applier(session: Session, volume: Volume) -> Node:
    """A node holding a brick of the volume, Online ones first, in brick order."""
    bricks = bricks_of(session, volume)
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_([b.node_id for b in bricks])))}
    ordered = [nodes[b.node_id] for b in bricks if b.node_id in nodes]
    online = [n for n in ordered if n.state == NodeState.ONLINE]
    if not ordered:
        raise Conflict(f"volume {volume.name!r} has no bricks")
    return (online or ordered)[0]


def _find(session: Session, volume: Volume, path: str) -> QuotaLimit | None:
    return session.exec(select(QuotaLimit).where(col(QuotaLimit.volume_id) == volume.id,
                                                 col(QuotaLimit.path) == path)).first()


def _precheck(session: Session, access: Access, cluster: Cluster, volume: Volume, what: str) -> None:
    access.require(WRITE, volume.cluster_id, f"{what} on volume {volume.name!r}", refs(volume))
    require_enabled(volume, cluster.name)
    if volume.state != VolumeState.STARTED:
        raise Conflict(f"volume {volume.name!r} is {volume.state}: limits are set through a mount of the running "
                       f"volume; start it first (`kadalu volume start -c {cluster.name} {volume.name}`)")


def _busy(row: QuotaLimit) -> None:
    if row.state != "applied":
        raise Conflict(f"the limit on {row.path} is still {row.state}: wait for that change to finish, then retry")


def _values(row: QuotaLimit) -> dict:
    return {"hard_bytes": row.hard_bytes, "soft_percent": row.soft_percent, "hard_objects": row.hard_objects}


def _send(session: Session, volume: Volume, row: QuotaLimit, action: str) -> Task:
    body = QuotaLimitSpec(volume=spec(session, volume), path=row.path, action=action,
                          hard_bytes=row.hard_bytes, soft_percent=row.soft_percent,
                          hard_objects=row.hard_objects).model_dump()
    task = tasks.new_task(session, _applier(session, volume), TaskKind.QUOTA_LIMIT, body, volume_id=volume.id)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    return task


def set_limit(session: Session, *, access: Access, cluster: Cluster, volume: Volume,
              request: LimitRequest) -> tuple[QuotaLimit, Task, list[str]]:
    """limit-usage (`hard`, optional `soft`) or limit-objects (`objects`) on a directory."""
    _precheck(session, access, cluster, volume, f"set a quota limit on {str(request.path)[:120]!r}")
    path = check_path(request.path)
    if (request.hard is None) == (request.objects is None):
        raise Invalid("give either a usage limit (`hard`, a size such as 10GiB) or an object limit (`objects`)")
    hard = None
    if request.hard is not None:
        try:
            hard = parse_size(request.hard, whole_bytes=False)
        except SizeError as exc:
            raise Invalid(f"hard limit: {exc}") from None
        if hard > MAX_BYTES:
            raise Invalid(f"hard limit {request.hard[:40]!r} is larger than GlusterFS can hold (8 EiB)")
    if request.objects is not None and not 1 <= request.objects <= MAX_BYTES:
        raise Invalid(f"object limit {request.objects}: give a count of files and directories from 1 up")
    soft = parse_soft(request.soft)
    row = _find(session, volume, path)
    if row is None:
        count = len(session.exec(select(QuotaLimit.id).where(col(QuotaLimit.volume_id) == volume.id)).all())
        if count >= MAX_LIMITS_PER_VOLUME:
            raise Conflict(f"volume {volume.name!r} has {count} limits, the most it may have: remove one first")
        row = QuotaLimit(volume_id=volume.id, cluster_id=volume.cluster_id, path=path, previous=None)
    else:
        _busy(row)
        row.previous = _values(row)
    if hard is not None:
        row.hard_bytes = hard
    if request.objects is not None:
        row.hard_objects = request.objects
    if soft is not None:
        row.soft_percent = soft
    row.state, row.reason = "applying", ""
    session.add(row)
    session.flush()
    task = _send(session, volume, row, "set")
    warnings = []
    if hard is not None and row.usage_at is not None and row.used_bytes > hard:
        warnings.append(f"{path} already uses {format_size(row.used_bytes)}, more than the new limit "
                        f"{format_size(hard)}: writes under it fail with EDQUOT until usage drops below it")
    if request.objects is not None and row.usage_at is not None and row.files + row.dirs > request.objects:
        warnings.append(f"{path} already holds {row.files + row.dirs} files and directories, more than the new "
                        f"object limit {request.objects}: creating more under it fails with EDQUOT")
    session.commit()
    return row, task, warnings


def remove_limit(session: Session, *, access: Access, cluster: Cluster, volume: Volume, path: str) -> tuple[QuotaLimit, Task]:
    _precheck(session, access, cluster, volume, f"remove the quota limit on {str(path)[:120]!r}")
    check_path(path)
    row = _find(session, volume, path)
    if row is None:
        raise NotFound(f"no quota limit on {path} in volume {volume.name!r}: "
                       f"`kadalu volume quota list -c {cluster.name} {volume.name}`")
    _busy(row)
    row.state, row.reason, row.previous = "removing", "", None
    session.add(row)
    task = _send(session, volume, row, "remove")
    session.commit()
    return row, task


def limit_task_finished(session: Session, task: Task, data: dict) -> None:
    """A QUOTA_LIMIT answer: the limit is applied (or gone); a refused one is put back as it was."""
    if task.volume_id is None:
        return
    row = session.exec(select(QuotaLimit).where(col(QuotaLimit.volume_id) == task.volume_id,
                                                col(QuotaLimit.path) == task.spec.get("path"))).first()
    if row is None or row.state not in ("applying", "removing"):
        return  # quota disabled meanwhile (the limits went with it), or a late answer
    ok, removing = task.phase == Phase.DONE.value, row.state == "removing"
    if (ok and removing) or (not ok and not removing and row.previous is None):
        # removed; or a new limit that could not be set: as if never asked
        volume = session.get(Volume, task.volume_id)
        if volume is not None:
            quota_alerts.resolve_all(session, volume, [row])
        session.delete(row)
    elif ok:
        row.state, row.previous, row.reason = "applied", None, ""
        _take_usage(row, data)
        session.add(row)
    else:
        for key, value in (row.previous or {}).items():
            setattr(row, key, value)
        row.state, row.previous = "applied", None
        row.reason = f"the last change was refused: {task.reason}"[:4096]
        session.add(row)
    metadata.changed(session, task.cluster_id, volume_id=task.volume_id)


def _take_usage(row: QuotaLimit, data: dict) -> None:
    values = [data.get(k) for k in ("used_bytes", "files", "dirs")]
    if all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_BYTES for v in values):
        row.used_bytes, row.files, row.dirs = values  # type: ignore[assignment]
        row.usage_at = utcnow()


def apply_usage(session: Session, node: Node, reports: list[QuotaUsageReport]) -> None:
    """Heartbeat reports: taken only from the volume's reporting node, for limits that exist."""
    by_volume: dict[str, list[QuotaUsageReport]] = {}
    for r in reports:
        by_volume.setdefault(r.volume_id, []).append(r)
    for volume_id, items in by_volume.items():
        volume = session.get(Volume, volume_id)
        if volume is None or volume.cluster_id != node.cluster_id:
            continue
        nodes = list(session.exec(select(Brick.node_id).where(col(Brick.volume_id) == volume_id)
                                  .order_by(col(Brick.idx))).all())
        if usage_reporter(nodes) != node.id:
            continue
        rows = {r.path: r for r in session.exec(select(QuotaLimit).where(col(QuotaLimit.volume_id) == volume_id))}
        for item in items:
            row = rows.get(item.path)
            if row is None:
                continue
            _take_usage(row, item.model_dump())
            session.add(row)
            quota_alerts.check(session, volume, row, entry(row))


def soft_bytes(row: QuotaLimit) -> int | None:
    if row.hard_bytes is None:
        return None
    return row.hard_bytes * (row.soft_percent or DEFAULT_SOFT_PERCENT) // 100


def entry(row: QuotaLimit) -> dict:
    """One line of `quota list`."""
    soft = soft_bytes(row)
    objects = row.files + row.dirs
    soft_objects = row.hard_objects * (row.soft_percent or DEFAULT_SOFT_PERCENT) // 100 if row.hard_objects else None
    return {
        "path": row.path, "hard_bytes": row.hard_bytes, "soft_percent": row.soft_percent or DEFAULT_SOFT_PERCENT,
        "soft_bytes": soft, "used_bytes": row.used_bytes,
        "available_bytes": max(0, row.hard_bytes - row.used_bytes) if row.hard_bytes is not None else None,
        "hard_objects": row.hard_objects, "files": row.files, "dirs": row.dirs,
        "available_objects": max(0, row.hard_objects - objects) if row.hard_objects is not None else None,
        "soft_exceeded": bool((soft is not None and row.used_bytes >= soft)
                              or (soft_objects is not None and objects >= soft_objects)),
        "hard_exceeded": bool((row.hard_bytes is not None and row.used_bytes >= row.hard_bytes)
                              or (row.hard_objects is not None and objects >= row.hard_objects)),
        "state": row.state, "reason": row.reason, "usage_at": row.usage_at,
    }


def limits(session: Session, volume: Volume) -> list[QuotaLimit]:
    return list(session.exec(select(QuotaLimit).where(col(QuotaLimit.volume_id) == volume.id)
                             .order_by(col(QuotaLimit.path))))


def listing(session: Session, cluster: Cluster, volume: Volume) -> dict:
    """`quota list`: from the database alone, never from the nodes."""
    require_enabled(volume, cluster.name)
    return {"volume": volume.name, "enabled": enabled(volume),
            "version": quota_version({k: str(v) for k, v in volume.options.items()}),
            "limits": [entry(r) for r in limits(session, volume)]}
