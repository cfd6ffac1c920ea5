"""Heartbeats: node facts, device usage and brick reports, sent to queue `controlplane` every interval."""
import logging
import os
import threading
import time

from celery import Celery

from contracts.messages import BrickReport, DeviceUsage, Heartbeat
from contracts.task_names import HEARTBEAT
from nodeagent import __version__, devices, facts, georep_handlers, quota_service, rebalance_handlers
from nodeagent.brick_handlers import REPORTED_STATES, layout_of, local_bricks, metadata_volumes
from nodeagent.context import AgentContext
from nodeagent.gluster.processes import brick_status

log = logging.getLogger(__name__)
METADATA_REFRESH_SECONDS = 30.0


def device_usage(ctx: AgentContext) -> list[DeviceUsage]:
    """Size and free space of the devices this agent accepted (its own registry, not the metadata:
    opening a path the control plane named, such as a character device, could have side effects)."""
    out = []
    for device_id, dev in ctx.devices.entries().items():
        try:
            if dev["kind"] == "block":
                size = free = devices.block_size(dev["real_path"])
            else:
                size, free = devices.usage(dev["real_path"])
        except OSError:
            continue  # gone or unreadable: the next task on it will report why
        out.append(DeviceUsage(device_id=device_id, path=dev["path"], size_bytes=size, free_bytes=free))
    return out


def _fs_usage(path: str) -> tuple[int, int]:
    try:
        st = os.statvfs(path)
    except OSError:
        return 0, 0  # missing (device not mounted, brick not created yet): reported as 0
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


def brick_reports(ctx: AgentContext) -> list[BrickReport]:
    """One report per brick of this node in volumes being started, started or stopping: pid from
    its pid file, online when that process lives and its port accepts TCP (0.5 s probe)."""
    layout = layout_of(ctx)
    out = []
    for spec, state in metadata_volumes(ctx):
        if state not in REPORTED_STATES:
            continue
        for brick in local_bricks(spec, ctx.node_id):
            try:
                status = brick_status(layout, brick)
            except OSError as exc:
                log.warning("cannot read the status of brick %s: %s", brick.path, exc)
                status = {"pid": None, "online": False}
            size, free = _fs_usage(brick.path)
            out.append(BrickReport(brick_id=brick.id, volume_id=spec.id, pid=status["pid"], online=status["online"],
                                   port=brick.port, size_bytes=size, free_bytes=free,
                                   heal_pending=heal_pending(brick.path)))
    return out


HEAL_INDICES = ("xattrop", "dirty", "entry-changes")


def heal_pending(brick_path: str, cap: int = 100_000) -> int:
    """Entries this brick holds for the self-heal daemon: the index translator links a file under
    .glusterfs/indices/<index>/ while a replica or fragment of it needs healing (the base file of
    each index is named after the index and does not count). Capped: only zero matters exactly."""
    count = 0
    for index in HEAL_INDICES:
        try:
            with os.scandir(os.path.join(brick_path, ".glusterfs", "indices", index)) as entries:
                for entry in entries:
                    if not entry.name.startswith(index + "-"):
                        count += 1
                        if count >= cap:
                            return count
        except OSError:
            continue
    return count


def build(ctx: AgentContext) -> Heartbeat:
    return Heartbeat(
        node_id=ctx.node_id, hostname=facts.hostname(), glusterfs_version=facts.glusterfs_version(ctx.runner),
        agent_version=__version__, metadata_version=ctx.state.load_metadata().get("version", 0),
        sent_at=time.time(), devices=device_usage(ctx), bricks=brick_reports(ctx),
        rebalances=rebalance_handlers.reports(ctx), quota_usage=quota_service.latest(ctx),
        georep=georep_handlers.reports(ctx),
    )


def start(ctx: AgentContext, app: Celery, interval: float) -> threading.Event:
    stop = threading.Event()

    refresh_every = max(1, round(METADATA_REFRESH_SECONDS / interval))

    def loop():
        beats = 0
        while not stop.is_set():
            try:
                ctx.send(app, HEARTBEAT, build(ctx).model_dump())
            except Exception as exc:  # broker down: keep trying; the control plane will mark us Unreachable
                log.warning("heartbeat not sent: %s", exc)
            beats += 1
            if beats % refresh_every == 0:
                # States change without a task reaching this node (Starting -> Started): catch up now
                # and then, so a restart after a reboot acts on a recent copy (nothing comes back
                # when nothing changed; only the changes after our version when something did).
                ctx.sync_metadata()
            stop.wait(interval)

    threading.Thread(target=loop, name=f"heartbeat-{os.getpid()}", daemon=True).start()
    return stop
