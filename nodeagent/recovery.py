"""Bringing this node's bricks back after an agent restart or a reboot, from local metadata only.

For every volume whose state in the local metadata copy says its bricks should run (Starting,
Started, StartFailed: the copy may predate the last Starting -> Started step), each brick of this node
whose daemon is not running (found by its pid file) is started, then the volume's self-heal
daemon where the volume heals. Bricks that kept running while the agent was down are left
alone. Nothing here calls the control plane, and no failure stops the agent: each is logged
and listed in the returned summary. Brick directories are never prepared here: a brick whose
device did not come back must fail to start, not be recreated on the root file system, and a
brick that is not inside a device this agent accepted is not started at all (the same check as
every brick task).

Before anything starts, running daemons take the graphs of the current metadata in place where they
can (`sync_running`): a node that was down during an option change applies it on return (a brick
that kept running also reconnects to the new volfile server by itself and fetches again)."""
import logging
from collections.abc import Iterator

from contracts.states import VOLUME_BRICKS_SHOULD_RUN
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent import live_graphs
from nodeagent.brick_handlers import (
    any_local_brick_running,
    confine_brick,
    ensure_shd,
    heals,
    layout_of,
    local_bricks,
    metadata_volumes,
    volume_lock,
)
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.gluster.pids import running_pid
from nodeagent.gluster.processes import start_brick

log = logging.getLogger(__name__)
SHOULD_RUN = VOLUME_BRICKS_SHOULD_RUN


def recover(ctx: AgentContext) -> dict[str, list]:
    """Start what should run and does not. Returns {"running": [brick ids already up],
    "started": [(brick id, pid)], "failed": [(brick id or "shd:<volume>", message)]}."""
    layout = layout_of(ctx)
    summary: dict[str, list] = {"running": [], "started": [], "failed": []}
    try:
        sync_running(ctx)
    except Exception:
        log.exception("recovery: running daemons could not take their new graphs")
    for spec, mine in _volumes_to_run(ctx):
        with volume_lock(ctx, spec.id):
            for brick in mine:
                what = f"brick {brick.node_name}:{brick.path} of volume {spec.name}"
                try:
                    confine_brick(ctx, brick)
                    pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
                    if pid:
                        log.info("recovery: %s already runs as pid %s", what, pid)
                        summary["running"].append(brick.id)
                        continue
                    pid = start_brick(layout, spec, brick, ctx.node_id, ctx.runner)
                    log.info("recovery: started %s as pid %s", what, pid)
                    summary["started"].append((brick.id, pid))
                except AgentError as exc:
                    log.error("recovery: cannot start %s: %s %s", what, exc.message, exc.hint)
                    summary["failed"].append((brick.id, exc.message))
                except Exception as exc:  # never let one brick keep the agent from starting
                    log.exception("recovery: cannot start %s", what)
                    summary["failed"].append((brick.id, f"{type(exc).__name__}: {exc}"))
            if heals(spec) and any_local_brick_running(layout, spec, ctx.node_id):
                try:
                    pid = ensure_shd(ctx, spec)
                    log.info("recovery: self-heal daemon of volume %s runs as pid %s", spec.name, pid)
                except Exception as exc:
                    msg = exc.message if isinstance(exc, AgentError) else f"{type(exc).__name__}: {exc}"
                    log.error("recovery: cannot start the self-heal daemon of volume %s: %s", spec.name, msg)
                    summary["failed"].append((f"shd:{spec.name}", msg))
    return summary


def _volumes_to_run(ctx: AgentContext) -> Iterator[tuple[VolumeSpec, list[BrickSpec]]]:
    """Volumes of the local metadata that should run, with this node's bricks of each (none: skipped)."""
    for spec, state in metadata_volumes(ctx):
        if state in SHOULD_RUN and (mine := local_bricks(spec, ctx.node_id)):
            yield spec, mine


def sync_running(ctx: AgentContext) -> dict[str, list[str]]:
    """After the local metadata changed (or at agent start): every running daemon of a volume that
    should run takes its current graph in place where it can. What cannot ("restart") is left to
    the control plane's rolling restart and listed."""
    out: dict[str, list[str]] = {"live": [], "restart": []}
    for spec, mine in _volumes_to_run(ctx):
        with volume_lock(ctx, spec.id):
            layout = layout_of(ctx)
            for brick in mine:
                if running_pid(layout.brick_pidfile(brick), "glusterfsd") is None:
                    continue
                try:
                    how = live_graphs.apply_brick(ctx, spec, brick)[0]
                except OSError as exc:
                    log.warning("cannot update the graph of brick %s: %s", brick.path, exc)
                    continue
                if how in ("live", "restart"):
                    out[how].append(brick.id)
            if running_pid(layout.shd_pidfile(spec), "glusterfs") is not None:
                try:
                    live_graphs.sync_shd(ctx, spec)
                except Exception as exc:
                    log.warning("cannot update the self-heal daemon of volume %s: %s", spec.name, exc)
    if out["restart"]:
        log.info("%d running brick(s) need a restart for their new graph (the control plane rolls them)",
                 len(out["restart"]))
    return out
