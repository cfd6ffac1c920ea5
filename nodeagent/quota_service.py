"""The agent's quota loop: from its metadata copy alone, every few seconds,

- the quota daemon serves the volumes with quota on that run and have a brick here
  (nodeagent/gluster/quotad.py);
- each local brick of such a volume is crawled once per quota-version, once the brick runs the
  graph with quota on: a `--client-pid -100` mount of the brick alone and an lstat of everything
  in it, so features/marker counts the data that was there before quota was enabled (glusterd's
  `find . -exec stat`); the crawl record is quota/crawled.json;
- after a disable, each brick that was crawled is cleaned the same way, with the virtual xattr
  glusterfs.quota-xattr-cleanup on every entry (marker removes its quota xattrs), and forgotten;
- the volume's reporting node (contracts.quota.usage_reporter) reads the usage of each limited
  directory; heartbeats carry the last reading (`latest`).

Nothing here raises: a failure is logged and tried again next round."""
import json
import logging
import os
import threading
from pathlib import Path

from contracts.messages import QuotaUsageReport
from contracts.quota import usage_reporter
from contracts.states import VolumeState
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent import quota_handlers
from nodeagent.brick_handlers import layout_of, local_bricks
from nodeagent.context import AgentContext
from nodeagent.gluster import quotad
from nodeagent.gluster.mount import umount
from nodeagent.gluster.pids import running_pid
from nodeagent.gluster.processes import brick_volfile_text, write_atomic
from nodeagent.quota_mounts import crawl_mount, lock, release, release_all
from volgen.quotad import quota_enabled, quota_version

log = logging.getLogger(__name__)
CLEANUP_XATTR = "glusterfs.quota-xattr-cleanup"  # marker's virtual xattr (VIRTUAL_QUOTA_XATTR_CLEANUP_KEY)
_latest: dict[str, list[QuotaUsageReport]] = {}


MAX_REPORTS = 16384  # what a heartbeat carries (contracts.messages.Heartbeat.quota_usage)


def latest(ctx: AgentContext) -> list[QuotaUsageReport]:
    return list(_latest.get(str(ctx.state.root), []))[:MAX_REPORTS]


def _volumes(ctx: AgentContext) -> list[tuple[VolumeSpec, str, list[str]]]:
    """(spec, state, limited paths) of the volumes in the local metadata copy with a brick here."""
    out = []
    for entry in ctx.state.load_metadata().get("content", {}).get("volumes", []) or []:
        try:
            spec = VolumeSpec.model_validate(entry["spec"])
            paths = [str(q["path"]) for q in entry.get("quota_limits", []) or []]
        except Exception as exc:  # a malformed entry is skipped, as brick_handlers.metadata_volumes does
            log.warning("quota: skipping a malformed volume in the local metadata: %s", exc)
            continue
        if local_bricks(spec, ctx.node_id):
            out.append((spec, str(entry.get("state", "")), paths))
    return out


def _record(ctx: AgentContext) -> Path:
    return Path(ctx.state.root) / "quota" / "crawled.json"


def _load(ctx: AgentContext) -> dict[str, dict]:
    try:
        return json.loads(_record(ctx).read_text())
    except (OSError, ValueError):
        return {}


def _save(ctx: AgentContext, record: dict[str, dict]) -> None:
    write_atomic(_record(ctx), json.dumps(record, sort_keys=True))


def _runs_graph(ctx: AgentContext, spec: VolumeSpec, brick: BrickSpec) -> bool:
    """The brick runs and this node serves it the spec's graph (quota on at this quota-version)."""
    layout = layout_of(ctx)
    if running_pid(layout.brick_pidfile(brick), "glusterfsd") is None:
        return False
    served = layout.brick_volfile(spec, brick)
    return served.exists() and served.read_text() == brick_volfile_text(spec, brick, ctx.node_id)


def crawl(ctx: AgentContext, spec: VolumeSpec, brick: BrickSpec, cleanup: bool) -> int:
    """Visit everything on `brick` through a mount of it alone; returns the entries visited."""
    state_dir = Path(ctx.state.root)
    mnt = crawl_mount(state_dir, spec, brick, ctx.runner, readdirp=not cleanup)
    seen = 0
    try:
        for top, dirs, files in os.walk(mnt):
            for name in [*dirs, *files, *([] if top != str(mnt) else ["."])]:
                path = os.path.join(top, name)
                try:
                    if cleanup:
                        os.setxattr(path, CLEANUP_XATTR, b"1", follow_symlinks=False)
                    else:
                        os.lstat(path)
                    seen += 1
                except OSError:
                    continue  # removed meanwhile, or a special file
    finally:
        umount(str(mnt))
    return seen


def _crawls(ctx: AgentContext, running: list[VolumeSpec], all_specs: dict[str, tuple[VolumeSpec, str]]) -> None:
    record = _load(ctx)
    for spec in running:
        version = quota_version(spec.options)
        done = record.setdefault(spec.id, {"version": version, "bricks": []})
        if done["version"] != version:
            done.update(version=version, bricks=[])
        for brick in local_bricks(spec, ctx.node_id):
            if brick.id in done["bricks"] or not _runs_graph(ctx, spec, brick):
                continue
            n = crawl(ctx, spec, brick, cleanup=False)
            done["bricks"].append(brick.id)
            _save(ctx, record)
            log.info("quota: counted %d entries on brick %s of volume %s (quota-version %d)", n, brick.path,
                     spec.name, version)
    for volume_id in list(record):
        known = all_specs.get(volume_id)
        if known is None:
            del record[volume_id]  # the volume is gone (its bricks too)
            _save(ctx, record)
            continue
        spec, state = known
        if quota_enabled(spec) or state != VolumeState.STARTED:
            continue
        for brick in local_bricks(spec, ctx.node_id):
            if brick.id in record[volume_id]["bricks"] and _runs_graph(ctx, spec, brick):
                n = crawl(ctx, spec, brick, cleanup=True)
                log.info("quota: cleaned quota xattrs of %d entries on brick %s of volume %s", n, brick.path, spec.name)
        del record[volume_id]
        _save(ctx, record)


def sync(ctx: AgentContext) -> None:
    """One round (see the module docstring)."""
    volumes = _volumes(ctx)
    running = [s for s, state, _ in volumes if state == VolumeState.STARTED and quota_enabled(s)]
    state_dir = Path(ctx.state.root)
    try:
        quotad.sync(state_dir, running, ctx.runner)
    except Exception as exc:
        log.warning("quota: the quota daemon could not be brought up to date: %s", exc)
    with lock(state_dir):
        try:
            _crawls(ctx, running, {s.id: (s, state) for s, state, _ in volumes})
        except Exception as exc:
            log.warning("quota: crawl failed (tried again next round): %s", exc)
        wanted = {s.id for s in running}
        mnts = state_dir / "quota" / "mnt"
        for gone in [p.name for p in mnts.glob("*")] if mnts.exists() else []:
            if gone not in wanted:
                release(state_dir, gone)
    reports = []
    for spec, _state, paths in volumes:
        if spec not in running or not paths or usage_reporter([b.node_id for b in spec.bricks]) != ctx.node_id:
            continue
        try:
            reports += [QuotaUsageReport(**r) for r in quota_handlers.read_usage(ctx, spec, paths)]
        except Exception as exc:
            log.warning("quota: usage of volume %s not read: %s", spec.name, exc)
    _latest[str(ctx.state.root)] = reports


def start(ctx: AgentContext, interval: float) -> threading.Event:
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                sync(ctx)
            except Exception:
                log.exception("quota: round failed")
            stop.wait(interval)
        release_all(Path(ctx.state.root))

    threading.Thread(target=loop, name=f"quota-{os.getpid()}", daemon=True).start()
    return stop
