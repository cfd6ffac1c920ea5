"""What each task kind does on the node. Thin: the work lives in plain modules."""
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from contracts.task_kinds import TaskKind
from contracts.task_specs import DeviceTaskSpec
from nodeagent import brick_handlers, devices, drift_repair, georep_handlers, quota_handlers, rebalance_handlers
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.snapshots import handlers as snapshot_handlers


def _device_spec(raw: dict[str, Any]) -> DeviceTaskSpec:
    try:
        return DeviceTaskSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AgentError("bad_spec", f"invalid device task spec: {exc.error_count()} error(s): "
                         f"{first.get('loc')} {first.get('msg')}",
                         "the control plane and the agent disagree on the spec: check both versions") from exc


def add_device(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _device_spec(raw)
    if spec.kind == "block":
        return devices.add_block(ctx.node_name, spec.path, spec.device_id, ctx.devices, ctx.confinement, ctx.runner)
    return devices.add_directory(ctx.node_name, spec.path, spec.device_id, ctx.devices, ctx.confinement)


def remove_device(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _device_spec(raw)
    if spec.kind == "block":
        return devices.remove_block(spec.path, spec.device_id, ctx.devices)
    return devices.remove_directory(spec.path, spec.device_id, ctx.devices)


HANDLERS: dict[str, Callable[[AgentContext, dict[str, Any]], dict]] = {
    TaskKind.ADD_DEVICE: add_device,
    TaskKind.REMOVE_DEVICE: remove_device,
    TaskKind.CREATE_BRICK: brick_handlers.create_brick,
    TaskKind.START_BRICK: brick_handlers.start_brick_task,
    TaskKind.STOP_BRICK: brick_handlers.stop_brick_task,
    TaskKind.RESTART_BRICK: brick_handlers.restart_brick_task,
    TaskKind.RECONFIGURE_BRICK: brick_handlers.reconfigure_brick_task,
    TaskKind.START_REBALANCE: rebalance_handlers.start,
    TaskKind.STOP_REBALANCE: rebalance_handlers.stop,
    TaskKind.DELETE_BRICK: brick_handlers.delete_brick,
    TaskKind.REPAIR_BRICK: drift_repair.repair_brick,
    TaskKind.QUOTA_LIMIT: quota_handlers.limit,
    TaskKind.GEOREP_KEYGEN: georep_handlers.keygen,
    TaskKind.GEOREP_PREPARE_REMOTE: georep_handlers.prepare_remote,
    TaskKind.GEOREP_CLEANUP_REMOTE: georep_handlers.cleanup_remote,
    TaskKind.GEOREP_START: georep_handlers.start,
    TaskKind.GEOREP_STOP: georep_handlers.stop,
    TaskKind.GEOREP_PAUSE: georep_handlers.pause,
    TaskKind.GEOREP_RESUME: georep_handlers.resume,
    TaskKind.GEOREP_DELETE: georep_handlers.delete,
    TaskKind.SNAPSHOT_PROBE: snapshot_handlers.probe,
    TaskKind.SNAPSHOT_BARRIER: snapshot_handlers.barrier,
    TaskKind.SNAPSHOT_TAKE: snapshot_handlers.take,
    TaskKind.SNAPSHOT_REMOVE: snapshot_handlers.remove,
    TaskKind.SNAPSHOT_RESTORE: snapshot_handlers.restore,
    TaskKind.SNAPSHOT_CLONE: snapshot_handlers.clone,
}


def handle(ctx: AgentContext, kind: str, spec: dict[str, Any]) -> dict:
    handler = HANDLERS.get(kind)
    if handler is None:
        raise AgentError("unknown_kind", f"this agent does not know task kind {kind!r}",
                         "upgrade kadalu-agent on this node to the control plane's version")
    return handler(ctx, spec)
