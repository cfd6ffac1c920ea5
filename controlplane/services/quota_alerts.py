"""Alerts of quota limits crossed, raised and resolved as usage reports arrive: `quota_soft_exceeded`
(warning) once a directory's usage reaches its soft limit, `quota_hard_exceeded` (critical) once it
reaches the hard limit (writes under it then fail with EDQUOT). One condition per limit row."""
from sqlmodel import Session

from contracts.sizes import format_size
from controlplane.models import QuotaLimit, Volume
from controlplane.services import alerts


def keys(row: QuotaLimit) -> tuple[str, str]:
    return f"quota_soft:{row.id}", f"quota_hard:{row.id}"


def check(session: Session, volume: Volume, row: QuotaLimit, e: dict) -> None:
    """`e`: the row as `quota list` shows it (controlplane.services.quota.entry)."""
    soft_key, hard_key = keys(row)
    where = f"{row.path} of volume {volume.name}"
    usage = f"{format_size(row.used_bytes)} used" + (f" of {format_size(row.hard_bytes)}" if row.hard_bytes else "")
    usage += f", {row.files + row.dirs} objects" + (f" of {row.hard_objects}" if row.hard_objects else "")
    if e["hard_exceeded"]:
        alerts.record(session, volume.cluster_id, "quota_hard_exceeded",
                      f"{where} reached its hard quota limit ({usage}): writes under it fail with EDQUOT",
                      severity="critical", volume_id=volume.id, key=hard_key)
    else:
        alerts.resolve(session, volume.cluster_id, hard_key)
    if e["soft_exceeded"]:
        alerts.record(session, volume.cluster_id, "quota_soft_exceeded",
                      f"{where} passed its soft quota limit of {e['soft_percent']}% ({usage})",
                      volume_id=volume.id, key=soft_key)
    else:
        alerts.resolve(session, volume.cluster_id, soft_key)


def resolve_all(session: Session, volume: Volume, rows: list[QuotaLimit]) -> None:
    for row in rows:
        for key in keys(row):
            alerts.resolve(session, volume.cluster_id, key)
