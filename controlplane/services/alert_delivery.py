"""Deliver alert changes (fired, resolved) to a webhook as Alertmanager's webhook payload
(version 4), so Alertmanager-compatible receivers take them as they are. Beat runs `deliver`;
an alert whose delivery failed is tried again later with a doubling delay, up to a number of
attempts. What was delivered is kept on the row (notified_state), so a restart sends nothing twice
that had been accepted, and every API replica or worker agrees."""
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, col, or_, select

from controlplane.db import utcnow
from controlplane.models import Alert, Cluster, Node, Volume

log = logging.getLogger(__name__)
BATCH = 100
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 600.0
Post = Callable[[dict], None]  # raises on failure


def pending(session: Session, now: datetime) -> list[Alert]:
    """Alerts whose state changed since the last delivery and whose retry time has come."""
    stmt = select(Alert).where(col(Alert.notified_state) != Alert.state,
                               or_(col(Alert.notify_after).is_(None), col(Alert.notify_after) <= now))
    return list(session.exec(stmt.order_by(col(Alert.created_at)).limit(BATCH)))


def _iso(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at else "0001-01-01T00:00:00Z"


def payload(session: Session, rows: list[Alert], external_url: str = "") -> dict:
    clusters = dict(session.exec(select(Cluster.id, Cluster.name)).all())
    node_ids = {a.node_id for a in rows if a.node_id}
    volume_ids = {a.volume_id for a in rows if a.volume_id}
    nodes = dict(session.exec(select(Node.id, Node.name).where(col(Node.id).in_(list(node_ids)))).all()) if node_ids else {}
    volumes = (dict(session.exec(select(Volume.id, Volume.name).where(col(Volume.id).in_(list(volume_ids)))).all())
               if volume_ids else {})
    items: list[dict[str, Any]] = []
    for a in rows:
        labels = {"alertname": a.kind, "severity": a.severity, "cluster": clusters.get(a.cluster_id, a.cluster_id)}
        if a.node_id:
            labels["node"] = nodes.get(a.node_id, a.node_id)
        if a.volume_id:
            labels["volume"] = volumes.get(a.volume_id, a.volume_id)
        items.append({
            "status": a.state, "labels": labels, "annotations": {"summary": a.message},
            "startsAt": _iso(a.created_at), "endsAt": _iso(a.resolved_at) if a.state == "resolved" else _iso(None),
            "generatorURL": external_url, "fingerprint": a.id.replace("-", "")[:16],
        })
    status = "firing" if any(i["status"] == "firing" for i in items) else "resolved"
    common = {k: v for k, v in items[0]["labels"].items() if all(i["labels"].get(k) == v for i in items)} if items else {}
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": status, "receiver": "kadalu",
            "groupLabels": {}, "commonLabels": common, "commonAnnotations": {}, "externalURL": external_url,
            "alerts": items}


def deliver(session: Session, post: Post, max_attempts: int, external_url: str = "") -> int:
    """Send one batch; returns how many alert changes were delivered. Commits."""
    now = utcnow()
    rows = pending(session, now)
    if not rows:
        return 0
    states = {a.id: a.state for a in rows}
    try:
        post(payload(session, rows, external_url))
    except Exception as exc:  # the receiver is down or refused: retry these later
        for a in rows:
            a.notify_attempts += 1
            if a.notify_attempts >= max_attempts:
                log.error("alert %s (%s, %s) not delivered after %d attempts: dropped (%s)",
                          a.id, a.kind, a.state, a.notify_attempts, exc)
                a.notified_state, a.notify_attempts, a.notify_after = states[a.id], 0, None
            else:
                delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (a.notify_attempts - 1))
                a.notify_after = now + timedelta(seconds=delay)
            session.add(a)
        session.commit()
        log.warning("alert webhook failed (%d alerts, retrying later): %s", len(rows), exc)
        return 0
    for a in rows:
        session.refresh(a)
        if a.state == states[a.id]:  # not changed again while we were sending
            a.notified_state, a.notify_attempts, a.notify_after = states[a.id], 0, None
            session.add(a)
    session.commit()
    return len(rows)


def http_post(url: str, timeout: float) -> Post:
    def post(body: dict) -> None:
        r = httpx.post(url, json=body, timeout=timeout)
        r.raise_for_status()
    return post
