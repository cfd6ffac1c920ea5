"""Alerts: node state changes and failures, kept in the database and listable."""
from sqlmodel import Session, select

from controlplane.models import Alert


def record(session: Session, cluster_id: str, kind: str, message: str, severity: str = "warning",
           node_id: str | None = None, volume_id: str | None = None) -> Alert:
    alert = Alert(cluster_id=cluster_id, node_id=node_id, volume_id=volume_id, kind=kind, severity=severity,
                  message=message[:4096])
    session.add(alert)
    return alert


def list_alerts(session: Session, cluster_id: str, limit: int) -> list[Alert]:
    stmt = select(Alert).where(Alert.cluster_id == cluster_id).order_by(Alert.created_at.desc()).limit(limit)
    return list(session.exec(stmt))
