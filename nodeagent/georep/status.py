"""Each local master brick's worker, as `gsyncd status --json` shows it, for task results and heartbeats."""
import calendar
import json
import logging
import time

from pydantic import ValidationError

from contracts.georep_specs import GeoRepSessionSpec, GeoRepWorkerReport
from nodeagent.georep import paths
from nodeagent.georep.monitor import remote_url
from nodeagent.runner import Runner

log = logging.getLogger(__name__)
_WORDS = ("Active", "Passive", "Faulty", "Initializing...", "Created", "Stopped", "Paused", "N/A")
_CRAWLS = ("N/A", "Hybrid Crawl", "History Crawl", "Changelog Crawl")


def _int(value) -> int:
    try:
        return max(0, min(int(float(value)), 2**40))
    except (TypeError, ValueError):
        return 0


def _time(row: dict, key: str) -> int:
    """gsyncd prints times as "%Y-%m-%d %H:%M:%S", in UTC under `<key>_utc`."""
    text = row.get(f"{key}_utc")
    try:
        return calendar.timegm(time.strptime(str(text), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return 0


def worker_reports(state_root, spec: GeoRepSessionSpec, node_id: str, runner: Runner) -> list[GeoRepWorkerReport]:
    conf = paths.config_file(state_root, spec.session_id)
    out = []
    for brick in [b for b in spec.master.bricks if b.node_id == node_id]:
        row: dict = {}
        if conf.exists():
            done = runner.run([paths.GSYNCD, "status", spec.master.name, remote_url(spec), "-c", str(conf),
                               "--local-path", brick.path, "--json"], timeout=30)
            try:
                parsed = json.loads(done.stdout) if done.returncode == 0 else []
                row = parsed[0] if isinstance(parsed, list) and parsed else parsed if isinstance(parsed, dict) else {}
            except ValueError:
                log.warning("gsyncd status of session %s, brick %s: not JSON", spec.session_id, brick.path)
        status = row.get("worker_status", "N/A")
        if row.get("monitor_status") in ("Paused", "Stopped", "Created") and status == "N/A":
            status = row["monitor_status"]
        try:
            out.append(GeoRepWorkerReport(
                session_id=spec.session_id, brick_id=brick.id, status=status if status in _WORDS else "N/A",
                crawl_status=row.get("crawl_status") if row.get("crawl_status") in _CRAWLS else "N/A",
                last_synced=_time(row, "last_synced"), entry=_int(row.get("entry")), data=_int(row.get("data")),
                meta=_int(row.get("meta")), failures=_int(row.get("failures")),
                checkpoint_time=_time(row, "checkpoint_time"),
                checkpoint_completed=row.get("checkpoint_completed") == "Yes",
                checkpoint_completion_time=_time(row, "checkpoint_completion_time")))
        except ValidationError as exc:
            log.warning("gsyncd status of session %s unusable: %s", spec.session_id, exc)
    return out
