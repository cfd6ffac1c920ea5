"""Alerts: problems that fire until their condition clears, and notices. Kept in the database,
listable (what each user may list: services.visibility), deliverable to a webhook
(services.alert_delivery).

A condition has a key (its kind and what it concerns); raising it again while its alert is open
updates that alert (message, last seen, count) instead of adding one, and resolving it closes the
alert. The database's unique (cluster_id, open_key) makes that hold across workers."""
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from controlplane.db import rowcount, utcnow
from controlplane.models import Alert

FIRING, RESOLVED = "firing", "resolved"


def default_key(kind: str, node_id: str | None, volume_id: str | None) -> str:
    return f"{kind}:{node_id or '-'}:{volume_id or '-'}"


def record(session: Session, cluster_id: str, kind: str, message: str, severity: str = "warning",
           node_id: str | None = None, volume_id: str | None = None, key: str | None = None) -> Alert:
    """Raise (or refresh) the alert of a condition; `info` makes a notice, stored resolved.
    `node_id` / `volume_id`: the node and the volume the alert concerns, so that users granted
    only that node or volume see it. Without `key`, the kind, node and volume are the condition."""
    if severity == "info":
        now = utcnow()
        alert = Alert(cluster_id=cluster_id, node_id=node_id, volume_id=volume_id, kind=kind, severity=severity,
                      message=message[:4096], key=key or default_key(kind, node_id, volume_id), state=RESOLVED,
                      resolved_at=now, notified_state=RESOLVED, created_at=now, last_seen_at=now)
        session.add(alert)
        return alert
    key = key or default_key(kind, node_id, volume_id)
    seen = _seen_again(session, cluster_id, key, kind, severity, message)
    if seen is not None:
        return seen
    alert = Alert(cluster_id=cluster_id, node_id=node_id, volume_id=volume_id, kind=kind, severity=severity,
                  message=message[:4096], key=key, open_key=key, state=FIRING)
    try:
        with session.begin_nested():  # another worker may have opened it meanwhile
            session.add(alert)
    except IntegrityError:
        seen = _seen_again(session, cluster_id, key, kind, severity, message)
        if seen is None:
            raise
        return seen
    return alert


def _seen_again(session: Session, cluster_id: str, key: str, kind: str, severity: str, message: str) -> Alert | None:
    """Count one more occurrence on the open alert of this condition, if there is one. One UPDATE, so
    two workers counting at once both count."""
    counted = session.execute(
        update(Alert).where(col(Alert.cluster_id) == cluster_id, col(Alert.open_key) == key)
        .values(count=Alert.count + 1, last_seen_at=utcnow(), message=message[:4096], severity=severity, kind=kind)
        # not "evaluate": it scans every object in the session per UPDATE (the health check holds
        # the cluster's bricks and volumes there: 7,550 alerts took 100 s); the alert is refreshed below
        .execution_options(synchronize_session=False)
    )
    if rowcount(counted) == 0:
        return None
    alert = find_open(session, cluster_id, key)
    if alert is not None:
        session.refresh(alert)
    return alert


def find_open(session: Session, cluster_id: str, key: str) -> Alert | None:
    return session.exec(select(Alert).where(col(Alert.cluster_id) == cluster_id, col(Alert.open_key) == key)).first()


def resolve(session: Session, cluster_id: str, key: str) -> bool:
    """Close the open alert of this condition, if any (the caller commits)."""
    res = session.execute(
        update(Alert).where(col(Alert.cluster_id) == cluster_id, col(Alert.open_key) == key)
        .values(state=RESOLVED, open_key=None, resolved_at=utcnow(), notify_attempts=0, notify_after=None)
        .execution_options(synchronize_session="fetch")  # the matched rows, not a scan of the session
    )
    return rowcount(res) > 0


def open_keys(session: Session, prefix: str) -> dict[tuple[str, str], Alert]:
    """Open alerts whose key starts with `prefix`, by (cluster id, key)."""
    rows = session.exec(select(Alert).where(col(Alert.state) == FIRING, col(Alert.open_key).startswith(prefix)))
    return {(a.cluster_id, a.open_key or ""): a for a in rows}
