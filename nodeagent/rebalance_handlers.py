"""START_REBALANCE / STOP_REBALANCE on this node, and rebalance reports for heartbeats."""
import logging
from typing import Any

from pydantic import ValidationError

from contracts.messages import RebalanceReport
from contracts.task_specs import RebalanceTaskSpec
from nodeagent.brick_handlers import local_bricks, metadata_volumes, volume_lock
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.gluster.rebalance import rebalance_status, start_rebalance, stop_rebalance
from nodeagent.gluster.rebalance_process import rebalance_dir

log = logging.getLogger(__name__)
FIELDS = ("state", "files_scanned", "files_moved", "files_failed", "files_skipped", "bytes_moved", "elapsed_seconds")


def _parse(raw: dict[str, Any]) -> RebalanceTaskSpec:
    try:
        return RebalanceTaskSpec.model_validate(raw)
    except ValidationError as exc:
        raise AgentError("bad_spec", f"invalid rebalance task spec: {exc.errors()[0].get('msg')}",
                         "the control plane and the agent disagree on the spec: check both versions") from exc


def _report(status: dict) -> dict:
    return {k: status.get(k, 0) for k in FIELDS}


def start(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task = _parse(raw)
    with volume_lock(ctx, task.volume.id):
        pid = start_rebalance(ctx.state.root, task.volume, ctx.node_id, ctx.runner, fix_layout_only=task.fix_layout_only)
        log.info("rebalance of volume %s runs as pid %s", task.volume.name, pid)
        return _report(rebalance_status(ctx.state.root, task.volume))


def stop(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task = _parse(raw)
    with volume_lock(ctx, task.volume.id):
        return _report(stop_rebalance(ctx.state.root, task.volume, ctx.runner))


def reports(ctx: AgentContext) -> list[RebalanceReport]:
    """Status of every rebalance this node ran for a volume it holds bricks of (cheap when idle)."""
    out = []
    for spec, _state in metadata_volumes(ctx):
        if not local_bricks(spec, ctx.node_id) or not rebalance_dir(ctx.state.root, spec).exists():
            continue
        try:
            status = rebalance_status(ctx.state.root, spec)
        except OSError as exc:
            log.warning("rebalance status of %s unreadable: %s", spec.name, exc)
            continue
        out.append(RebalanceReport(volume_id=spec.id, **_report(status)))
    return out
