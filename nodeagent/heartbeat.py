"""Heartbeats: node facts and device usage, sent to queue `controlplane` every interval."""
import logging
import os
import threading
import time

from celery import Celery

from contracts.messages import DeviceUsage, Heartbeat
from contracts.task_names import HEARTBEAT
from nodeagent import __version__, devices, facts
from nodeagent.context import AgentContext

log = logging.getLogger(__name__)


def device_usage(ctx: AgentContext) -> list[DeviceUsage]:
    out = []
    for dev in ctx.state.load_metadata().get("content", {}).get("devices", []):
        if dev.get("node_id") != ctx.node_id or dev.get("state") not in ("Ready", "Removing"):
            continue
        try:
            if dev["kind"] == "block":
                size = free = devices.block_size(dev["path"])
            else:
                size, free = devices.usage(dev["path"])
        except OSError:
            continue  # gone or unreadable: the next task on it will report why
        out.append(DeviceUsage(device_id=dev["id"], path=dev["path"], size_bytes=size, free_bytes=free))
    return out


def build(ctx: AgentContext) -> Heartbeat:
    return Heartbeat(
        node_id=ctx.node_id, hostname=facts.hostname(), glusterfs_version=facts.glusterfs_version(ctx.runner),
        agent_version=__version__, metadata_version=ctx.state.load_metadata().get("version", 0),
        sent_at=time.time(), devices=device_usage(ctx),
    )


def start(ctx: AgentContext, app: Celery, interval: float) -> threading.Event:
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                ctx.send(app, HEARTBEAT, build(ctx).model_dump())
            except Exception as exc:  # broker down: keep trying; the control plane will mark us Unreachable
                log.warning("heartbeat not sent: %s", exc)
            stop.wait(interval)

    threading.Thread(target=loop, name=f"heartbeat-{os.getpid()}", daemon=True).start()
    return stop
