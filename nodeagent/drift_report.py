"""The drift report (contracts/drift.py): what runs on this node and what lies on its disks, for the
control plane to compare with its database. Built every heartbeat interval by its own thread and
sent, signed like every agent message, only when it changed (or every REFRESH_SECONDS): the
heartbeat itself stays as it is.

Read-only: a brick is looked at only when it lies inside a device this agent accepted (the same
check as every brick task), its xattr is read without following a symbolic link, and nothing is
written."""
import errno
import logging
import os
import stat
import threading
import time
import uuid
from pathlib import Path

from celery import Celery

from contracts.drift import REFRESH_SECONDS, BrickObserved, DaemonObserved, DeviceObserved, DriftReport, digest_of, volfile_digest
from contracts.task_names import DRIFT_REPORT
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent.brick_handlers import confine_brick, heals, layout_of, local_bricks, metadata_volumes
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR
from nodeagent.gluster.pids import cmdline, running_pid
from nodeagent.gluster.processes import ProcessLayout, port_accepts

log = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    """The volfile's digest as the control plane computes it (contracts.drift.volfile_digest)."""
    try:
        return volfile_digest(path.read_text())
    except (OSError, UnicodeDecodeError):
        return ""


def volume_id_xattr(path: str) -> str:
    try:
        raw = os.getxattr(path, VOLUME_ID_XATTR, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP):
            return ""
        return "!" + errno.errorcode.get(exc.errno or 0, "EIO")
    if len(raw) != 16:
        return "?" + raw[:32].hex()
    return str(uuid.UUID(bytes=raw))


def started_port(pid: int) -> int:
    argv = cmdline(pid)
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag == "--brick-port" and value.isdigit():
            return int(value)
    return 0


def observe_brick(ctx: AgentContext, layout: ProcessLayout, spec: VolumeSpec, brick: BrickSpec) -> BrickObserved:
    seen = BrickObserved(brick_id=brick.id, volume_id=spec.id,
                         volfile_sha256=file_sha256(layout.brick_volfile(spec, brick)))
    pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
    if pid:
        seen.pid, seen.port = pid, started_port(pid)
        seen.listening = bool(seen.port) and port_accepts(brick.address, seen.port)
    try:
        confine_brick(ctx, brick)
    except AgentError:
        seen.directory = "unreadable"  # outside the devices this agent accepted: not looked at
        return seen
    try:
        st = os.lstat(brick.path)
    except FileNotFoundError:
        seen.directory = "missing"
        return seen
    except OSError:
        seen.directory = "unreadable"
        return seen
    if not stat.S_ISDIR(st.st_mode):
        seen.directory = "not_a_directory"
        return seen
    seen.volume_id_xattr = volume_id_xattr(brick.path)
    seen.has_glusterfs_dir = os.path.isdir(os.path.join(brick.path, ".glusterfs"))
    return seen


def observe_devices(ctx: AgentContext) -> list[DeviceObserved]:
    out = []
    for device_id, dev in ctx.devices.entries().items():
        try:
            mode = os.stat(dev["real_path"]).st_mode
            present = stat.S_ISBLK(mode) if dev["kind"] == "block" else stat.S_ISDIR(mode)
        except OSError:
            present = False
        try:
            out.append(DeviceObserved(device_id=device_id, path=str(dev["path"])[:4096], present=present))
        except ValueError:
            continue  # a registry entry that is not ours to report
    return out


def build(ctx: AgentContext) -> DriftReport:
    layout = layout_of(ctx)
    bricks, daemons = [], []
    for spec, _state in metadata_volumes(ctx):
        mine = local_bricks(spec, ctx.node_id)
        if not mine:
            continue
        bricks += [observe_brick(ctx, layout, spec, b) for b in mine]
        if heals(spec):
            daemons.append(DaemonObserved(volume_id=spec.id, pid=running_pid(layout.shd_pidfile(spec), "glusterfs"),
                                          volfile_sha256=file_sha256(layout.shd_volfile(spec))))
    report = DriftReport(node_id=ctx.node_id, sent_at=time.time(),
                         metadata_version=int(ctx.state.load_metadata().get("version", 0) or 0),
                         bricks=bricks, daemons=daemons, devices=observe_devices(ctx))
    report.digest = digest_of(report)
    return report


class Reporter:
    """Sends the report when its digest differs from the last one sent, or it is REFRESH_SECONDS old."""

    def __init__(self, ctx: AgentContext, app: Celery, refresh: float = REFRESH_SECONDS):
        self.ctx, self.app, self.refresh = ctx, app, refresh
        self.last_digest, self.last_sent = "", 0.0

    def tick(self) -> bool:
        report = build(self.ctx)
        if report.digest == self.last_digest and time.monotonic() - self.last_sent < self.refresh:
            return False
        self.ctx.send(self.app, DRIFT_REPORT, report.model_dump())
        self.last_digest, self.last_sent = report.digest, time.monotonic()
        return True


def start(ctx: AgentContext, app: Celery, interval: float) -> threading.Event:
    stop = threading.Event()
    reporter = Reporter(ctx, app)

    def loop():
        while not stop.is_set():
            try:
                reporter.tick()
            except Exception as exc:  # broker down or a node oddity: the next round tries again
                log.warning("drift report not sent: %s", exc)
            stop.wait(interval)

    threading.Thread(target=loop, name=f"drift-report-{os.getpid()}", daemon=True).start()
    return stop
