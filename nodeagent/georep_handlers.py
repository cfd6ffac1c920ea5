"""GEOREP_* tasks on this node (thin: the work is in nodeagent/georep/), and geo-replication reports
for heartbeats."""
import errno
import logging
import threading
from typing import Any

from pydantic import BaseModel, ValidationError

from contracts.georep_specs import GeoRepKeygenSpec, GeoRepRemoteSpec, GeoRepSessionSpec, GeoRepWorkerReport
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.georep import keys, locks, monitor, paths, remote
from nodeagent.georep.status import worker_reports
from nodeagent.gluster.bricks import touch_marker_timestamp
from nodeagent.state_files import read_json, write_json

log = logging.getLogger(__name__)
_SESSION_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _session_lock(session_id: str) -> threading.Lock:
    with _GUARD:
        return _SESSION_LOCKS.setdefault(session_id, threading.Lock())


def _parse(model: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise AgentError("bad_spec", f"invalid geo-replication task spec: {exc.errors()[0].get('msg')}",
                         "the control plane and the agent disagree on the spec: check both versions") from exc


def _master(ctx: AgentContext, raw: dict[str, Any]) -> GeoRepSessionSpec:
    spec = _parse(GeoRepSessionSpec, raw)
    mine = [b for b in spec.master.bricks if b.node_id == ctx.node_id]
    if not mine:
        raise AgentError("not_a_master_node", f"node {ctx.node_name} holds no brick of volume {spec.master.name}",
                         "the control plane sends this task to the master volume's nodes only", errno.EINVAL)
    for brick in mine:
        ctx.confinement.check_brick(brick.path, ctx.devices)
    return spec


def _reports(ctx: AgentContext, spec: GeoRepSessionSpec) -> dict:
    return {"workers": [r.model_dump() for r in worker_reports(ctx.state.root, spec, ctx.node_id, ctx.runner)]}


def keygen(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _parse(GeoRepKeygenSpec, raw)
    for brick in [b for b in spec.master.bricks if b.node_id == ctx.node_id]:
        touch_marker_timestamp(ctx.confinement.check_brick(brick.path, ctx.devices))
    with _session_lock(spec.session_id):
        return {"public_key": keys.ensure_key(ctx.state.root, spec.session_id, ctx.runner)}


def _remote(ctx: AgentContext, raw: dict[str, Any]) -> GeoRepRemoteSpec:
    spec = _parse(GeoRepRemoteSpec, raw)
    if not any(b.node_id == ctx.node_id for b in spec.volume.bricks):
        raise AgentError("not_a_remote_node", f"node {ctx.node_name} holds no brick of volume {spec.volume.name}",
                         "the control plane sends this task to the remote volume's nodes only", errno.EINVAL)
    return spec


def prepare_remote(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _remote(ctx, raw)
    with _session_lock(spec.session_id):
        return remote.prepare(ctx.state.root, ctx.node_id, spec, lambda p: ctx.confinement.check_brick(p, ctx.devices),
                              ctx.address)


def cleanup_remote(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _remote(ctx, raw)
    with _session_lock(spec.session_id):
        return remote.cleanup(ctx.state.root, spec)


def _spec_file(ctx: AgentContext, session_id: str):
    return paths.session_dir(ctx.state.root, session_id) / "spec.json"


def run(ctx: AgentContext, spec: GeoRepSessionSpec) -> None:
    """The monitor runs with this node's Passive locks held first (a worker started before would take them)."""
    root = ctx.state.root
    for brick in [b for b in spec.master.bricks if b.node_id == ctx.node_id]:
        touch_marker_timestamp(brick.path)  # confined by _master
    monitor.write_files(root, spec, ctx.address)
    write_json(_spec_file(ctx, spec.session_id), spec.model_dump())
    monitor.ensure_meta_mount(root, spec.session_id, ctx.runner)
    if locks.hold(ctx.georep_locks, root, spec):
        # an Active worker here holds a lock it must give up: restart it Passive
        monitor.stop(root, spec.session_id)
        if locks.hold(ctx.georep_locks, root, spec):
            raise AgentError("lock_busy", f"session {spec.session_id}: a Passive lock stays taken after the monitor stopped",
                             "look for a gsyncd worker of this session left running on the node", errno.EBUSY)
    monitor.start(root, spec, ctx.node_id, ctx.address, ctx.runner)


def start(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _master(ctx, raw)
    with _session_lock(spec.session_id):
        run(ctx, spec)
        return _reports(ctx, spec)


def stop(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _master(ctx, raw)
    with _session_lock(spec.session_id):
        monitor.stop(ctx.state.root, spec.session_id)
        locks.release_all(ctx.georep_locks, spec.session_id)
        write_json(_spec_file(ctx, spec.session_id), spec.model_dump())
        return _reports(ctx, spec)


def pause(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _master(ctx, raw)
    with _session_lock(spec.session_id):
        if not monitor.signal_group(ctx.state.root, spec.session_id, monitor.signal.SIGSTOP):
            raise AgentError("not_running", f"no gsyncd monitor of session {spec.session_id} runs on {ctx.node_name}",
                             "start the session again (`kadalu geo-replication start ID`)", errno.ESRCH)
        return {"workers": []}


def resume(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _master(ctx, raw)
    with _session_lock(spec.session_id):
        if not monitor.signal_group(ctx.state.root, spec.session_id, monitor.signal.SIGCONT):
            run(ctx, spec)  # the node restarted meanwhile: run it again, from its last synced time
        return _reports(ctx, spec)


def delete(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    spec = _master(ctx, raw)
    with _session_lock(spec.session_id):
        locks.release_all(ctx.georep_locks, spec.session_id)
        monitor.delete(ctx.state.root, spec, ctx.node_id, ctx.runner)
        return {}


def reports(ctx: AgentContext) -> list[GeoRepWorkerReport]:
    """Every running session's workers on this node (sessions whose last spec is kept here)."""
    base = paths.root(ctx.state.root) / "sessions"
    out: list[GeoRepWorkerReport] = []
    for d in sorted(base.iterdir()) if base.exists() else []:
        raw = read_json(d / "spec.json")
        if not raw or monitor.running_pid(ctx.state.root, d.name) is None:
            continue
        try:
            out += worker_reports(ctx.state.root, GeoRepSessionSpec.model_validate(raw), ctx.node_id, ctx.runner)
        except (ValidationError, OSError) as exc:
            log.warning("geo-replication status of session %s unreadable: %s", d.name, exc)
    return out


def restore(ctx: AgentContext) -> None:
    """Agent start: every session whose monitor still runs here gets this node's Passive locks back
    (the locks went with the old agent process); a worker that took one meanwhile is restarted."""
    base = paths.root(ctx.state.root) / "sessions"
    for d in sorted(base.iterdir()) if base.exists() else []:
        raw = read_json(d / "spec.json")
        if not raw or monitor.running_pid(ctx.state.root, d.name) is None:
            continue
        try:
            spec = GeoRepSessionSpec.model_validate(raw)
            with _session_lock(spec.session_id):
                run(ctx, spec)
        except Exception:  # never keep the agent from starting
            log.exception("geo-replication session %s: could not restore its Passive locks", d.name)
