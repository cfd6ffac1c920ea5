"""QUOTA_LIMIT on this node (contracts/task_specs.py QuotaLimitSpec), and reading usage.

Limits are xattrs set on the volume's `--client-pid -5` mount (nodeagent/quota_mounts.py); the
quota translators of the bricks store them on the directory and enforce them. Usage is the
directory's `trusted.glusterfs.quota.size`, read on the same mount."""
import errno
import logging
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contracts.quota import INODE_LIMIT_XATTR, LIMIT_XATTR, SIZE_XATTR, decode_size, encode_limit
from contracts.task_specs import QuotaLimitSpec
from contracts.volume_spec import VolumeSpec
from nodeagent.context import AgentContext
from nodeagent.errors import AgentError
from nodeagent.quota_mounts import inside, lock, special_mount

log = logging.getLogger(__name__)


def _spec(ctx: AgentContext, raw: dict[str, Any]) -> QuotaLimitSpec:
    try:
        task = QuotaLimitSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AgentError("bad_spec", f"invalid quota task spec: {exc.error_count()} error(s): {first.get('loc')} "
                         f"{first.get('msg')}", "the control plane and the agent disagree on the spec") from exc
    if not any(b.node_id == ctx.node_id for b in task.volume.bricks):
        raise AgentError("wrong_node", f"this node holds no brick of volume {task.volume.name}",
                         "the task was sent to the wrong node")
    return task


def usage_of(target: Path) -> dict[str, int]:
    try:
        used, files, dirs = decode_size(os.getxattr(target, SIZE_XATTR, follow_symlinks=False))
    except (OSError, ValueError):
        return {}  # not counted yet (a new directory, a crawl still running)
    return {"used_bytes": used, "files": files, "dirs": dirs}


def _remove_xattr(target: Path, name: str) -> None:
    try:
        os.removexattr(target, name, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.ENODATA, errno.ENOENT):
            raise


def limit(ctx: AgentContext, raw: dict[str, Any]) -> dict:
    task = _spec(ctx, raw)
    with lock(Path(ctx.state.root)):
        mnt = special_mount(Path(ctx.state.root), task.volume, ctx.runner)
        target = inside(mnt, task.path)
        if target is None:
            if task.action == "remove":
                return {}
            raise AgentError("not_found", f"directory {task.path} does not exist in volume {task.volume.name}",
                             "create it on a mount of the volume first (quota limits apply to existing directories)",
                             errno.ENOENT)
        try:
            if task.action == "remove":
                _remove_xattr(target, LIMIT_XATTR)
                _remove_xattr(target, INODE_LIMIT_XATTR)
            else:
                if task.hard_bytes is not None:
                    os.setxattr(target, LIMIT_XATTR, encode_limit(task.hard_bytes, task.soft_percent),
                                follow_symlinks=False)
                if task.hard_objects is not None:
                    os.setxattr(target, INODE_LIMIT_XATTR, encode_limit(task.hard_objects, task.soft_percent),
                                follow_symlinks=False)
        except OSError as exc:
            raise AgentError("xattr_failed", f"{task.action} the quota limit of {task.path}: {exc.strerror}",
                             "is quota enabled on the bricks? see the quota mount's log under the agent's state "
                             "directory (quota/logs)", exc.errno) from exc
        log.info("quota limit %s on %s of volume %s", task.action, task.path, task.volume.name)
        return usage_of(target)


def read_usage(ctx: AgentContext, spec: VolumeSpec, paths: list[str]) -> list[dict]:
    """Usage of `paths` (quota paths) on the volume's special mount; paths gone are skipped."""
    out = []
    with lock(Path(ctx.state.root)):
        mnt = special_mount(Path(ctx.state.root), spec, ctx.runner)
        for path in paths:
            try:
                target = inside(mnt, path)
            except AgentError:
                continue
            usage = usage_of(target) if target is not None else {}
            if usage:
                out.append({"volume_id": spec.id, "path": path, **usage})
    return out
