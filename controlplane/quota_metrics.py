"""Quota gauges, per limited directory (registered by controlplane.metrics.Metrics). Read from
the database at scrape time: the usage the volumes' reporting nodes last sent. Labels: cluster,
volume, path (inventory: at most contracts.quota.MAX_LIMITS_PER_VOLUME paths per volume)."""
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from controlplane.metrics_text import Gauge
from controlplane.models import Cluster, QuotaLimit, Volume
from controlplane.services.quota import entry

LABELS = ["cluster", "volume", "path"]


class QuotaCollector:
    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        """For a prometheus_client registry (the straightforward rendering; /metrics uses families())."""
        return [family.to_prometheus() for family in self.families()]

    def families(self) -> list[Gauge]:
        used = Gauge("kadalu_quota_used_bytes", "Bytes used under the limited directory", labels=LABELS)
        limit = Gauge("kadalu_quota_limit_bytes", "The directory's hard usage limit", labels=LABELS)
        soft = Gauge("kadalu_quota_soft_limit_bytes", "The directory's soft usage limit", labels=LABELS)
        objects = Gauge("kadalu_quota_objects", "Files and directories under the limited directory",
                                    labels=LABELS)
        objects_limit = Gauge("kadalu_quota_objects_limit", "The directory's object limit", labels=LABELS)
        exceeded = Gauge("kadalu_quota_exceeded", "1 while the directory is over its soft or hard limit",
                                     labels=[*LABELS, "limit"])
        with Session(self.engine) as session:
            rows = session.exec(select(QuotaLimit, Volume.name, Cluster.name)
                                .join(Volume, col(Volume.id) == QuotaLimit.volume_id)
                                .join(Cluster, col(Cluster.id) == QuotaLimit.cluster_id))
            for row, volume, cluster in rows:
                labels, e = [cluster, volume, row.path], entry(row)
                used.add_metric(labels, row.used_bytes)
                objects.add_metric(labels, row.files + row.dirs)
                if row.hard_bytes is not None:
                    limit.add_metric(labels, row.hard_bytes)
                    soft.add_metric(labels, e["soft_bytes"])
                if row.hard_objects is not None:
                    objects_limit.add_metric(labels, row.hard_objects)
                exceeded.add_metric([*labels, "soft"], 1.0 if e["soft_exceeded"] else 0.0)
                exceeded.add_metric([*labels, "hard"], 1.0 if e["hard_exceeded"] else 0.0)
        return [used, limit, soft, objects, objects_limit, exceeded]
