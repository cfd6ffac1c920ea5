"""The control plane's Celery app: a producer in the API, the consumer of queue `controlplane`."""
from datetime import timedelta

from celery import Celery

import celeryconfig
from contracts.task_names import (
    ALERTS_DELIVER,
    BROKER_USERS_SYNC,
    HEALTH_CHECK,
    METADATA_COMPACT,
    REDISPATCH,
    SNAPSHOT_SCHEDULES,
)
from controlplane.settings import Settings


def make_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise RuntimeError("KADALU_BROKER_URL is not set: give the Redis URL, or use `kadalu-server up`")
    app = Celery("kadalu-controlplane", set_as_current=False)
    app.conf.update(celeryconfig.controlplane_config(settings.broker_url, settings.broker_master_name))
    app.conf.beat_schedule = {
        "health-check": {"task": HEALTH_CHECK, "schedule": timedelta(seconds=max(1.0, settings.heartbeat_interval))},
        "redispatch-lost": {"task": REDISPATCH, "schedule": timedelta(seconds=max(2.0, settings.redispatch_after / 3))},
        "broker-users-sync": {"task": BROKER_USERS_SYNC, "schedule": timedelta(seconds=settings.broker_sync_interval)},
        "metadata-compact": {"task": METADATA_COMPACT, "schedule": timedelta(seconds=60)},
        "snapshot-schedules": {"task": SNAPSHOT_SCHEDULES, "schedule": timedelta(seconds=30)},
    }
    if settings.alert_webhook_url:
        app.conf.beat_schedule["alerts-deliver"] = {
            "task": ALERTS_DELIVER, "schedule": timedelta(seconds=settings.alert_webhook_interval)}
    return app
