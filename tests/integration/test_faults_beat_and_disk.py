"""Faults: beat stopped (the health check's last run, on /metrics, stops moving, which the shipped
Prometheus rule turns into an alert; it moves again once beat is back), and the control plane's
state disk full (SQLite in a small tmpfs state directory: writes answer 503 saying the disk is
full, never 500; reads keep working; nothing is corrupted, and writes work again once space is
freed)."""
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.fault_fixtures import start_beat
from tests.integration.harness import Cluster, wait_for

pytestmark = pytest.mark.integration
RULES = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "kadalu-rules.yml"


def last_health_check(cp) -> float | None:
    text = httpx.get(f"{cp.url}/metrics", headers={"Authorization": f"Bearer {cp.token}"}, timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "kadalu_job_last_run_timestamp_seconds" and sample.labels.get("name") == "health_check":
                return sample.value
    return None


def test_beat_stopped_shows_in_metrics_and_the_shipped_rule_alerts_on_it(cp):
    wait_for(lambda: last_health_check(cp), 30, "a first health check", cp.procs.tails)
    first = last_health_check(cp)
    wait_for(lambda: last_health_check(cp) > first, 15, "the health check to run again", cp.procs.tails)
    beat_pid = cp.procs.procs["beat"].pid
    os.kill(beat_pid, signal.SIGKILL)
    cp.procs.procs["beat"].wait(10)
    time.sleep(3)  # what beat had queued before it died is applied by now
    frozen = last_health_check(cp)
    time.sleep(5)  # five heartbeat intervals: five health checks would have run
    assert last_health_check(cp) == frozen
    assert time.time() - frozen >= 5
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    stopped = [r for r in rules if "kadalu_job_last_run_timestamp_seconds" in r.get("expr", "")
               and 'name="health_check"' in r["expr"]]
    assert stopped and any("time() -" in r["expr"] for r in stopped), "a rule alerts on the health check's age"
    start_beat(cp)
    wait_for(lambda: last_health_check(cp) > frozen, 30, "health checks to run again", cp.procs.tails)


@pytest.fixture
def small_state_dir(tmp_path):
    state = tmp_path / "server"
    state.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(state)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield state
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    try:  # the last partial blocks too
        with open(directory / "filler2", "wb") as f:
            while True:
                f.write(b"\0" * 512)
                f.flush()
    except OSError:
        pass
    return filler


def test_state_disk_full_gives_clear_errors_and_corrupts_nothing(tmp_path, small_state_dir):
    cp = Cluster(tmp_path)
    try:
        cp.start()
        cp.login_admin()
        assert cp.api("POST", "/clusters", json={"name": "before"}).status_code == 201
        fill(small_state_dir)
        codes, details = [], []
        for i in range(20):  # enough writes to need new pages
            r = cp.api("POST", "/clusters", json={"name": f"full{i}"})
            codes.append(r.status_code)
            if r.status_code == 503:
                details.append(r.json()["detail"])
                assert r.headers.get("retry-after")
        assert 500 not in codes, codes
        assert 503 in codes, f"the disk never filled up: {codes}"
        assert any("disk is full" in d for d in details), details
        assert cp.api("GET", "/clusters").status_code == 200  # reads keep working
        (small_state_dir / "filler").unlink()
        (small_state_dir / "filler2").unlink(missing_ok=True)
        wait_for(lambda: cp.api("POST", "/clusters", json={"name": "after"}).status_code == 201, 30,
                 "writes to work again", cp.procs.tails)
        names = {c["name"] for c in cp.api("GET", "/clusters").json()["data"]}
        assert {"default", "before", "after"} <= names
        accepted = {f"full{i}" for i, code in enumerate(codes) if code == 201}
        assert names - {"default", "before", "after"} == accepted  # what was answered 201 is there, nothing else
    finally:
        cp.stop()
    with sqlite3.connect(small_state_dir / "kadalu.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
