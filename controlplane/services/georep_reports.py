"""Workers' reports from heartbeats and task answers. Untrusted: a node reports only workers of its
own bricks in sessions that have a row for them; anything else is dropped."""
import logging

from pydantic import ValidationError
from sqlmodel import Session, col, select

from contracts.georep_specs import GeoRepWorkerReport
from controlplane.db import utcnow
from controlplane.models import GeoRepWorker, Node

log = logging.getLogger(__name__)
FIELDS = ("crawl_status", "last_synced", "entry", "data", "meta", "failures", "checkpoint_completed",
          "checkpoint_completion_time")


def apply_reports(session: Session, node: Node, reports: list[GeoRepWorkerReport]) -> None:
    for report in reports:
        row = session.exec(select(GeoRepWorker).where(col(GeoRepWorker.session_id) == report.session_id,
                                                      col(GeoRepWorker.brick_id) == report.brick_id)).first()
        if row is None or row.node_id != node.id:
            log.warning("geo-replication report of node %s for session %s, brick %s dropped: not a worker of this node",
                        node.name, report.session_id[:40], report.brick_id[:40])
            continue
        row.status = report.status
        for key in FIELDS:
            setattr(row, key, getattr(report, key))
        row.reported_at = utcnow()
        session.add(row)


def apply_task_data(session: Session, node_id: str, data: dict) -> None:
    node = session.get(Node, node_id)
    raw = data.get("workers") if isinstance(data, dict) else None
    if node is None or not isinstance(raw, list):
        return
    try:
        reports = [GeoRepWorkerReport.model_validate(r) for r in raw[:4096]]
    except ValidationError as exc:
        log.warning("geo-replication worker data from node %s dropped: %s", node.name, exc.errors()[0].get("msg"))
        return
    apply_reports(session, node, reports)
