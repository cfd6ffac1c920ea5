"""Fault: PostgreSQL restarted in the middle of a volume create. What must hold: while it is down the
API answers 503 with Retry-After, never 500; the agents' results that arrive meanwhile are not
lost (the control worker retries them); the create completes, each task applied once."""
import shutil
import signal
import threading
import time

import httpx
import pytest

from tests.integration.fault_fixtures import pg, pg_cp, with_agents  # noqa: F401
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import add_devices

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = ("node1", "node2")


class Poller(threading.Thread):
    """GETs the volume as fast as it answers and keeps every status code (and Retry-After of each 503)."""

    def __init__(self, cp, path: str):
        super().__init__(daemon=True)
        self.cp, self.path, self.stop = cp, path, threading.Event()
        self.codes: list[int] = []
        self.retry_after: list[str | None] = []

    def run(self):
        while not self.stop.is_set():
            try:
                r = self.cp.api("GET", self.path)
            except httpx.TransportError:
                continue
            self.codes.append(r.status_code)
            if r.status_code == 503:
                self.retry_after.append(r.headers.get("retry-after"))
            time.sleep(0.05)


def test_postgres_restarted_during_a_volume_create(pg, pg_cp):  # noqa: F811
    cp = pg_cp
    with_agents(cp, NODES)
    add_devices(cp, "exports", NODES)
    bricks = [f"{n}:{cp.root / 'exports' / n / 'pgv'}" for n in NODES]
    poller = Poller(cp, "/clusters/mycluster/volumes")
    poller.start()
    r = cp.api("POST", "/clusters/mycluster/volumes", json={"name": "pgv", "bricks": bricks})
    assert r.status_code == 202, r.text
    pg.stop(signal.SIGINT)  # the agents' results arrive while it is down
    down_since = time.monotonic()
    wait_for(lambda: poller.retry_after, 20, "a 503 while the database is down", cp.procs.tails)
    while time.monotonic() - down_since < 4:
        time.sleep(0.2)
    pg.start()
    volume = wait_for(lambda: (v := cp.api("GET", "/clusters/mycluster/volumes/pgv")).status_code == 200
                      and v.json()["state"] == "Started" and v.json(), 120, "the create to complete", cp.procs.tails)
    poller.stop.set()
    poller.join(5)
    assert 500 not in poller.codes, sorted(set(poller.codes))
    assert set(poller.codes) <= {200, 503}, sorted(set(poller.codes))
    assert all(value == "2" for value in poller.retry_after), poller.retry_after
    tasks = cp.api("GET", "/clusters/mycluster/tasks", params={"limit": 100}).json()["data"]
    mine = [t for t in tasks if t["spec"].get("volume", {}).get("id") == volume["id"]]
    assert sorted(t["kind"] for t in mine) == ["CREATE_BRICK"] * 2 + ["START_BRICK"] * 2, mine
    assert all(t["phase"] == "done" for t in mine), mine
    assert all(b["pid"] for b in volume["bricks"])
    # what the agents sent while the database was down was kept and applied later, not dropped
    assert "retry: Retry in" in (cp.root / "logs" / "worker.log").read_text(errors="replace")
