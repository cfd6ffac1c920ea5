"""REPAIR_BRICK: make one brick of this node match the control plane's database (`kadalu cluster
verify --repair`). Only what is safe: rewrite volfiles, start or stop the brick, start the
self-heal daemon, and put back a volume-id xattr that is missing from a directory prepared for a
volume. A brick root holding another volume's id is refused, never rewritten: it may be that
volume's data (a device mounted on the wrong directory, a path reused by hand)."""
import errno
import logging
import os
import uuid
from typing import Any

from contracts.task_specs import RepairBrickSpec
from nodeagent.brick_handlers import ensure_shd, layout_of, parse_brick_task, stop_shd_if_idle, volume_lock
from nodeagent.context import AgentContext
from nodeagent.drift_report import started_port, volume_id_xattr
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR
from nodeagent.gluster.pids import running_pid
from nodeagent.gluster.processes import brick_volfile_text, start_brick, stop_brick, write_atomic
from nodeagent.live_graphs import apply_brick

log = logging.getLogger(__name__)


def _parse(ctx: AgentContext, raw: dict[str, Any]) -> RepairBrickSpec:
    return parse_brick_task(ctx, raw, RepairBrickSpec.model_validate,
                            "run `kadalu cluster verify --repair` again")[0]


def check_volume_id(path: str, volume_id: str, restore: bool) -> list[str]:
    """Refuse a brick root holding another id; put a missing one back when `restore` and the directory
    was prepared as a brick (.glusterfs exists); returns what was changed."""
    if not os.path.isdir(path) or os.path.islink(path):
        raise AgentError("brick_missing", f"brick directory {path} is missing or not a directory",
                         "check that the device holding it is mounted; kadalu does not recreate a brick directory "
                         "by itself (its data would be gone): restore it, or replace the brick", errno.ENOENT)
    found = volume_id_xattr(path)
    if found == volume_id:
        return []
    if found:
        raise AgentError("foreign_volume_id", f"{path} holds volume id {found.lstrip('?!')} in {VOLUME_ID_XATTR}, "
                         f"not this volume's ({volume_id}): refused, it may be another volume's data",
                         f"find out whose data lies in {path}; if it is this volume's, set the id back by hand "
                         f"(`setfattr -n {VOLUME_ID_XATTR} -v 0x{volume_id.replace('-', '')} {path}`), then run the "
                         "repair again", errno.EEXIST)
    if not restore:
        raise AgentError("volume_id_missing", f"{path} has no {VOLUME_ID_XATTR}", "run the repair with the volume id "
                         "restore the control plane offers", errno.ENODATA)
    if not os.path.isdir(os.path.join(path, ".glusterfs")):
        raise AgentError("not_a_brick", f"{path} has neither {VOLUME_ID_XATTR} nor .glusterfs: it does not look like "
                         "this brick's directory", "check that the device holding it is mounted (an empty mount point "
                         "looks like this); kadalu does not mark a directory it cannot prove is the brick", errno.ENODATA)
    os.setxattr(path, VOLUME_ID_XATTR, uuid.UUID(volume_id).bytes, follow_symlinks=False)
    return ["volume_id"]


def repair_brick(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task = _parse(ctx, raw)
    spec, brick = task.volume, task.brick
    layout = layout_of(ctx)
    done: list[str] = []
    with volume_lock(ctx, spec.id):
        pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
        if task.action == "stop":
            if pid and stop_brick(layout, brick):
                done.append("brick_stopped")
            if stop_shd_if_idle(ctx, spec):
                done.append("shd_stopped_if_running")
            return {"pid": None, "port": brick.port, "done": done}
        done += check_volume_id(brick.path, spec.id, task.restore_volume_id)
        if pid and started_port(pid) not in (0, brick.port):
            stop_brick(layout, brick)  # listening where no client looks for it
            done.append("brick_stopped_wrong_port")
            pid = None
        volfile = layout.brick_volfile(spec, brick)
        if pid and not volfile.exists():
            # The served volfile of a running brick was deleted: put the current graph back (the
            # brick reads it at its next fetch, and a start without the agent needs it).
            write_atomic(volfile, brick_volfile_text(spec, brick, ctx.node_id))
            done.append("brick_volfile")
        elif pid:
            how, _, _ = apply_brick(ctx, spec, brick)  # a different graph: in place, or a restart
            if how == "live":
                done.append("brick_volfile")
            elif how == "restart" and stop_brick(layout, brick):
                done.append("brick_restarted_for_volfile")
                pid = None
        before = volfile.read_bytes() if volfile.exists() else b""
        new_pid = start_brick(layout, spec, brick, ctx.node_id, ctx.runner)  # writes the volfile of a stopped brick
        if volfile.read_bytes() != before:
            done.append("brick_volfile")
        if new_pid != pid:
            done.append("brick_started")
        shd_pid = running_pid(layout.shd_pidfile(spec), "glusterfs")
        shd_before = layout.shd_volfile(spec).read_bytes() if layout.shd_volfile(spec).exists() else b""
        if ensure_shd(ctx, spec) is not None:
            if layout.shd_volfile(spec).read_bytes() != shd_before:
                done.append("shd_volfile")
            if running_pid(layout.shd_pidfile(spec), "glusterfs") != shd_pid:
                done.append("shd_started")
    log.info("repaired brick %s:%s of volume %s: %s", brick.node_name, brick.path, spec.name, ", ".join(done) or "nothing")
    return {"pid": new_pid, "port": brick.port, "done": done}
