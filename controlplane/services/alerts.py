"""Alerts: node state changes and failures, kept in the database and listable (what each user
may list: services.visibility)."""
from sqlmodel import Session

from controlplane.models import Alert


def record(session: Session, cluster_id: str, kind: str, message: str, severity: str = "warning",
           node_id: str | None = None, volume_id: str | None = None) -> Alert:
    """`node_id` / `volume_id`: the node and the volume the alert concerns, so that users granted
    only that node or volume see it."""
    alert = Alert(cluster_id=cluster_id, node_id=node_id, volume_id=volume_id, kind=kind, severity=severity,
                  message=message[:4096])
    session.add(alert)
    return alert
