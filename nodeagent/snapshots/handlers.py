"""The snapshot task kinds on this node (contracts/snapshot_specs.py says what each does and returns).

Each first checks that the brick is this node's and inside a device this agent accepted, and finds
that device: every path it touches is derived from the brick, the device and the ids, never taken
from the message. Idempotent: a redelivered take finds its snapshot, a remove of nothing is done."""
import errno
import logging
from typing import Any

from contracts.snapshot_specs import SnapshotTaskSpec
from contracts.volume_spec import BrickSpec
from nodeagent.brick_handlers import layout_of, parse_brick_task, volume_lock
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.gluster.pids import running_pid
from nodeagent.snapshots import backends
from nodeagent.snapshots.barrier_rpc import set_barrier
from nodeagent.snapshots.lvm import LvmThin
from nodeagent.snapshots.restore import mark, rollback

log = logging.getLogger(__name__)


def _parse(ctx: AgentContext, raw: dict[str, Any]) -> tuple[SnapshotTaskSpec, BrickSpec, str, str]:
    """(spec, brick, the brick's real path, the real path of the device holding it)."""
    spec, brick = parse_brick_task(ctx, raw, SnapshotTaskSpec.parse)
    real = ctx.confinement.check_brick(brick.path, ctx.devices)
    holder = ctx.devices.directory_holding(real)
    assert holder is not None  # check_brick found it
    return spec, brick, real, holder[1]["real_path"]


def _backend(ctx: AgentContext, spec: SnapshotTaskSpec) -> backends.Backend:
    return backends.backend(spec.backend, ctx.runner)


def probe(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    _, brick, real, device = _parse(ctx, raw)
    return {"backend": backends.probe(real, device, ctx.runner)}


def barrier(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec, brick, _, _ = _parse(ctx, raw)
    layout = layout_of(ctx)
    if not spec.enable and running_pid(layout.brick_pidfile(brick), "glusterfsd") is None:
        return {"running": False}  # a brick that does not run holds no barrier
    set_barrier(str(layout.brick_socket(brick)), brick.path, spec.enable)
    log.info("barrier %s on brick %s:%s", "on" if spec.enable else "off", brick.node_name, brick.path)
    return {"running": True}


def take(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec, brick, real, device = _parse(ctx, raw)
    be = _backend(ctx, spec)
    with volume_lock(ctx, spec.snapshot_id):
        path = be.take(real, device, spec.snapshot_id, brick.id)
        try:
            # the copy is a brick of the snapshot's own volume (activation starts it under that id)
            mark(path, spec.snapshot_id)
        except OSError as exc:
            _remove(ctx, spec, brick, device)  # nothing half-made is left
            raise AgentError("xattr_failed", f"marking {path} failed: {exc.strerror}", "", exc.errno) from exc
    log.info("snapshot %s of brick %s:%s taken at %s", spec.snapshot_id, brick.node_name, brick.path, path)
    return {"path": path}


def _remove(ctx: AgentContext, spec: SnapshotTaskSpec, brick: BrickSpec, device: str) -> None:
    be = _backend(ctx, spec)
    if isinstance(be, LvmThin):
        vg, _, _ = be.logical_volume(be._mount(brick.path).source)
        be.remove(device, spec.snapshot_id, brick.id, vg)
    else:
        be.remove(device, spec.snapshot_id, brick.id)


def remove(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec, brick, _, device = _parse(ctx, raw)
    with volume_lock(ctx, spec.snapshot_id):
        _remove(ctx, spec, brick, device)
    log.info("snapshot %s of brick %s:%s removed", spec.snapshot_id, brick.node_name, brick.path)
    return {}


def restore(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec, brick, real, device = _parse(ctx, raw)
    be = _backend(ctx, spec)
    with volume_lock(ctx, spec.volume.id):
        if running_pid(layout_of(ctx).brick_pidfile(brick), "glusterfsd") is not None:
            raise AgentError("brick_running", f"brick {brick.node_name}:{brick.path} is running",
                             "stop the volume first (`kadalu volume stop`)", errno.EBUSY)
        copy = be.snapshot_brick(real, device, spec.snapshot_id, brick.id)
        rollback(real, copy, spec.volume.id, spec.snapshot_id, ctx.runner)
    log.info("brick %s:%s rolled back to snapshot %s", brick.node_name, brick.path, spec.snapshot_id)
    return {}


def clone(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec, brick, real, device = _parse(ctx, raw)
    if spec.clone_volume_id is None:
        raise AgentError("bad_spec", "SNAPSHOT_CLONE without clone_volume_id", "check the control plane's version")
    be = _backend(ctx, spec)
    with volume_lock(ctx, spec.clone_volume_id):
        path = be.clone(real, device, spec.snapshot_id, brick.id, spec.clone_volume_id)
        mark(path, spec.clone_volume_id)
    log.info("brick %s:%s of snapshot %s cloned at %s", brick.node_name, brick.path, spec.snapshot_id, path)
    return {"path": path}
