"""The brick task kinds (CREATE_BRICK, START_BRICK, STOP_BRICK, RESTART_BRICK, RECONFIGURE_BRICK, DELETE_BRICK) on this node.

See contracts/task_specs.py for the spec and what each returns. Each first checks that the brick
lies inside a device this agent accepted (nodeagent.confinement). Every handler is idempotent:
it checks what is already there (pid files, the brick directory's volume-id) and only does what
is missing. Two tasks of one volume may run at once in the agent's thread pool; the work of
each, the self-heal daemon's start/stop included, runs under a per-volume lock."""
import errno
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from contracts.states import VOLUME_BRICKS_REPORTED
from contracts.task_specs import BrickTaskSpec
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import cleanup_brick, prepare_brick
from nodeagent.gluster.pids import running_pid
from nodeagent.gluster.processes import ProcessLayout, follows_volfile_server, start_brick, stop_brick, stop_shd
from nodeagent.live_graphs import apply_brick, confirm, confirm_clients, on_local_file, sync_shd
from nodeagent.live_graphs import layout_of as _layout_of
from volgen.shd import HEALS_VOLUME_TYPES

log = logging.getLogger(__name__)
T = TypeVar("T")

# Volume states in which the agent reports its bricks in heartbeats.
REPORTED_STATES = VOLUME_BRICKS_REPORTED

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def volume_lock(ctx: AgentContext, volume_id: str) -> threading.Lock:
    """The lock of one volume on this agent (keyed by state dir too: tests run several agents)."""
    key = (str(Path(ctx.state.root).resolve()), volume_id)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def layout_of(ctx: AgentContext) -> ProcessLayout:
    return _layout_of(ctx)


def local_bricks(spec: VolumeSpec, node_id: str) -> list[BrickSpec]:
    return [b for b in spec.bricks if b.node_id == node_id]


def heals(spec: VolumeSpec) -> bool:
    return spec.type in HEALS_VOLUME_TYPES


def metadata_volumes(ctx: AgentContext) -> list[tuple[VolumeSpec, str]]:
    """(spec, state) of every volume in the local metadata copy; malformed entries are skipped."""
    out = []
    for entry in ctx.state.load_metadata().get("content", {}).get("volumes", []) or []:
        try:
            out.append((VolumeSpec.model_validate(entry["spec"]), str(entry.get("state", ""))))
        except (KeyError, TypeError, ValidationError) as exc:
            log.warning("skipping a malformed volume in the local metadata: %s", exc)
    return out


def any_local_brick_running(layout: ProcessLayout, spec: VolumeSpec, node_id: str) -> bool:
    return any(running_pid(layout.brick_pidfile(b), "glusterfsd") for b in local_bricks(spec, node_id))


def ensure_shd(ctx: AgentContext, spec: VolumeSpec) -> int | None:
    """Start (or find) this node's self-heal daemon of `spec` if the volume heals, on its current
    graph (taken in place, or by restarting the daemon). Call under the lock."""
    return sync_shd(ctx, spec)


def stop_shd_if_idle(ctx: AgentContext, spec: VolumeSpec) -> bool:
    """Stop the self-heal daemon when no brick of `spec` runs on this node. Call under the lock."""
    layout = layout_of(ctx)
    if any_local_brick_running(layout, spec, ctx.node_id):
        return False
    stop_shd(layout, spec)
    return True


def parse_brick_task(ctx: AgentContext, raw: dict[str, Any], parse: Callable[[dict[str, Any]], T],
                     retry_hint: str = "retry the operation") -> tuple[T, BrickSpec]:
    """A brick task's spec (`parse`: its model), its brick, checked to be this node's and inside a
    device this node was given."""
    try:
        task = parse(raw)
    except ValidationError as exc:
        raise AgentError("bad_spec", f"invalid brick task spec: {exc.error_count()} error(s): "
                         f"{exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}",
                         "the control plane and the agent disagree on the spec: check both versions") from exc
    try:
        brick: BrickSpec = task.brick  # type: ignore[attr-defined]
    except StopIteration:
        raise AgentError("unknown_brick", f"brick {raw.get('brick_id')} is not a brick of the volume in the spec",
                         f"the task spec is inconsistent; {retry_hint}", errno.ENOENT) from None
    if brick.node_id != ctx.node_id:
        raise AgentError("wrong_node", f"brick {brick.node_name}:{brick.path} belongs to node {brick.node_id}, "
                         f"not to this node ({ctx.node_id})", "the task was sent to the wrong node")
    confine_brick(ctx, brick)
    return task, brick


def _parse(ctx: AgentContext, raw: dict[str, Any]) -> tuple[BrickTaskSpec, BrickSpec]:
    return parse_brick_task(ctx, raw, BrickTaskSpec.parse)


def confine_brick(ctx: AgentContext, brick: BrickSpec) -> str:
    """Refuse (AgentError "outside_devices" or "symlink") a brick that is not strictly inside a
    directory device this agent accepted, before anything of it is touched."""
    return ctx.confinement.check_brick(brick.path, ctx.devices)


def create_brick(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task, brick = _parse(ctx, raw)
    with volume_lock(ctx, task.volume.id):
        prepare_brick(brick.path, task.volume.id, force=task.force)
    return {}


def start_brick_task(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task, brick = _parse(ctx, raw)
    spec = task.volume
    with volume_lock(ctx, spec.id):
        pid = start_brick(layout_of(ctx), spec, brick, ctx.node_id, ctx.runner)
        log.info("brick %s:%s of volume %s runs as pid %s", brick.node_name, brick.path, spec.name, pid)
        # A failing self-heal daemon fails the task; the brick stays up and a retry finds it.
        ensure_shd(ctx, spec)
    return {"pid": pid, "port": brick.port}


def restart_brick_task(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    """Apply a new brick graph by a restart: for a change of shape (translators added or removed),
    which a running brick cannot build, and for a brick started from a local -f volfile (it never
    refetches). The brick comes back from the agent's volfile server; the self-heal daemon follows.
    The control plane sends these one brick of every set at a time."""
    task, brick = _parse(ctx, raw)
    spec = task.volume
    with volume_lock(ctx, spec.id):
        layout = layout_of(ctx)
        stop_brick(layout, brick)
        pid = start_brick(layout, spec, brick, ctx.node_id, ctx.runner)
        log.info("restarted brick %s:%s of volume %s as pid %s", brick.node_name, brick.path, spec.name, pid)
        ensure_shd(ctx, spec)
    # Clients reconnect to a restarted brick within a few seconds; the next wave (the next brick of
    # the same set) must not go down before they have, or a replica set loses quorum.
    time.sleep(min(task.settle_seconds, 60.0))
    return {"pid": pid, "port": brick.port}


def reconfigure_brick_task(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    """Apply the volume's new graphs to this brick and the node's self-heal daemon without a restart
    (nodeagent/live_graphs.py); done when the brick fetched its new volfile. A brick whose graph
    changes shape, or that runs from a local volfile (even when its graph is unchanged: that moves it
    to the volfile server), fails with "restart_needed": the control plane
    then restarts the bricks in rolling waves. A brick that is not running is started."""
    t0, began_at = time.monotonic(), time.time()
    task, brick = _parse(ctx, raw)
    spec = task.volume
    with volume_lock(ctx, spec.id):
        layout = layout_of(ctx)
        if running_pid(layout.brick_pidfile(brick), "glusterfsd") is None:
            pid = start_brick(layout, spec, brick, ctx.node_id, ctx.runner)
            ensure_shd(ctx, spec)
            return {"pid": pid, "port": brick.port, "applied": "started"}
        how, key, text = apply_brick(ctx, spec, brick)
        running = running_pid(layout.brick_pidfile(brick), "glusterfsd")
        if how == "unchanged" and running is not None and on_local_file(layout, running):
            # Its graph did not change, but it runs from a local file (an older agent, or
            # --recover-only): the rolling restart moves it to the volfile server now, not at a
            # later change that must then wait for it.
            how = "restart"
        if how == "restart":
            raise AgentError("restart_needed", f"brick {brick.node_name}:{brick.path} cannot take its new graph in "
                             "place (translators added or removed, or it runs from a local volfile)",
                             "the control plane restarts the volume's bricks one per set instead")
        ensure_shd(ctx, spec)
        live_pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
        # "unchanged" on a brick started from a local file while no volfile server answers: it
        # already runs this graph, and has no connection to fetch on
        follows = live_pid is not None and follows_volfile_server(live_pid)
    if follows and not confirm(ctx, key, text):
        raise AgentError("not_applied", f"brick {brick.node_name}:{brick.path} did not fetch its new volfile",
                         "see the brick log; the agent's volfile server may have been restarted, retry the change")
    clients = confirm_clients(ctx, spec)
    log.info("brick %s:%s of volume %s runs its new graph (%s), pid %s; mounts here updated: %s", brick.node_name,
             brick.path, spec.name, how, live_pid, clients)
    # for bench/: the agent's own share, and when (this node's clock) it began and ended
    return {"pid": live_pid, "port": brick.port, "applied": how, "clients": clients,
            "seconds": round(time.monotonic() - t0, 4), "began_at": began_at, "ended_at": time.time()}


def stop_brick_task(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task, brick = _parse(ctx, raw)
    spec = task.volume
    with volume_lock(ctx, spec.id):
        if stop_brick(layout_of(ctx), brick):
            log.info("stopped brick %s:%s of volume %s", brick.node_name, brick.path, spec.name)
        stop_shd_if_idle(ctx, spec)
    return {}


def delete_brick(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task, brick = _parse(ctx, raw)
    spec = task.volume
    layout = layout_of(ctx)
    with volume_lock(ctx, spec.id):
        stop_brick(layout, brick)  # removes the pid file too
        if stop_shd_if_idle(ctx, spec):
            # No brick of the volume runs here: the shd volfile goes if no other local brick
            # of the volume keeps its volfile (those will be deleted by their own tasks).
            others = [b for b in local_bricks(spec, ctx.node_id) if b.id != brick.id]
            if not any(layout.brick_volfile(spec, b).exists() for b in others):
                layout.shd_volfile(spec).unlink(missing_ok=True)
                (layout.volfile_dir(spec) / "shd.vol").unlink(missing_ok=True)  # an older agent's
        layout.brick_volfile(spec, brick).unlink(missing_ok=True)
        layout.legacy_brick_volfile(spec, brick).unlink(missing_ok=True)
        layout.brick_pidfile(brick).unlink(missing_ok=True)
        try:
            layout.volfile_dir(spec).rmdir()
        except OSError:
            pass  # not empty (other bricks of the volume) or already gone
        cleanup_brick(brick.path, spec.id, task.purge)
    log.info("deleted brick %s:%s of volume %s (purge=%s)", brick.node_name, brick.path, spec.name, task.purge)
    return {"path": brick.path, "data_left": not task.purge}
