"""Load benchmark (issue #13): concurrent API clients doing mixed reads and changes for a bounded
time against one control plane on PostgreSQL; per endpoint the count, statuses and p50/p99 latency.

    .venv/bin/python -m bench.load [--clients 50] [--seconds 120] [--nodes 6] [--volumes 200] [--json out.json]

The control plane runs as its real processes (api under uvicorn, control worker, heartbeat worker,
beat, a private redis-server, a private PostgreSQL database dropped afterwards), as in bench/scale.py.
Simulated nodes speak the real protocol (registration, signed heartbeats, signed task results over
the broker) and answer every brick task as an agent would; no gluster process runs. Each client
owns its volumes (create replica 3 -> wait Started -> set an option -> stop -> delete) between
reads of the volume list, a volume, the cluster, its nodes and its alerts. A 409 is an expected
answer (a request while the volume is busy); anything else that is not 2xx, and any transport
error, counts as an error. docs/benchmarks.md has the results."""
import argparse
import json
import random
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from bench import scale_seed
from bench.scale import INTERVAL, ControlPlane, Database, SimNode, Traffic, _q, wait_for
from controlplane.db import make_engine
from nodeagent.controlplane_client import ControlPlaneClient

READS = ("GET /clusters/{c}/volumes", "GET /clusters/{c}/volumes/{v}", "GET /clusters/{c}", "GET /clusters/{c}/nodes",
         "GET /clusters/{c}/alerts")


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []
        self.error_count = 0

    def add(self, route: str, seconds: float, status: str, detail: str = "") -> None:
        with self.lock:
            self.times[route].append(seconds)
            self.status[route][status] += 1
            # expected: 2xx, 409 (busy), and 404 where the route says the volume is being deleted
            if not (status.startswith("2") or status == "409" or (status == "404" and route.endswith("(deleted)"))):
                self.error_count += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{route} -> {status} {detail[:200]}")

    def report(self) -> dict[str, Any]:
        out = {}
        for route in sorted(self.times):
            t = self.times[route]
            out[route] = {"n": len(t), "p50_ms": round(_q(t, 0.5) * 1000, 1), "p99_ms": round(_q(t, 0.99) * 1000, 1),
                          "status": dict(self.status[route])}
        return out


class Client(threading.Thread):
    def __init__(self, k: int, cp: ControlPlane, nodes: list[str], seeded: list[str], stats: Stats, until: float):
        super().__init__(daemon=True)
        self.k, self.nodes, self.seeded, self.stats, self.until = k, nodes, seeded, stats, until
        self.http = httpx.Client(base_url=f"{cp.url}/api/v1", headers={"Authorization": f"Bearer {cp.token}"}, timeout=60)
        self.rng = random.Random(k)
        self.round = 0

    def call(self, method: str, route: str, path: str, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.stats.add(route, time.perf_counter() - t0, type(exc).__name__, str(exc))
            return None
        self.stats.add(route, time.perf_counter() - t0, str(r.status_code), r.text if r.status_code >= 400 else "")
        return r

    def read(self) -> None:
        route = self.rng.choice(READS)
        vol = self.rng.choice(self.seeded)
        path = route.split(" ", 1)[1].replace("{c}", "bench").replace("{v}", vol)
        self.call("GET", route, path, params={"limit": 100} if path.endswith(("volumes", "nodes", "alerts")) else None)

    def wait_state(self, name: str, want: str) -> bool:
        while time.monotonic() < self.until + 60:
            self.read()
            route = "GET /clusters/{c}/volumes/{v}" + (" (deleted)" if want == "gone" else "")
            r = self.call("GET", route, f"/clusters/bench/volumes/{name}")
            state = "gone" if r is not None and r.status_code == 404 else (r.json().get("state", "") if r else "")
            if state == want:
                return True
            if state.endswith("Failed"):
                return False
            time.sleep(0.05)
        return False

    def change(self) -> None:
        name = f"load{self.k:02d}x{self.round}"
        self.round += 1
        bricks = [f"{n}:/d{1 + self.round % 3}/{name}" for n in self.rng.sample(self.nodes, 3)]
        r = self.call("POST", "POST /clusters/{c}/volumes", "/clusters/bench/volumes",
                      json={"name": name, "bricks": bricks, "replica": 3})
        if r is None or r.status_code != 202 or not self.wait_state(name, "Started"):
            return
        self.call("POST", "POST /clusters/{c}/volumes/{v}/options", f"/clusters/bench/volumes/{name}/options",
                  json={"set": {"performance.write-behind": self.rng.choice(["on", "off"])}})
        self.wait_state(name, "Started")
        self.call("POST", "POST /clusters/{c}/volumes/{v}/stop", f"/clusters/bench/volumes/{name}/stop", json={})
        if self.wait_state(name, "Stopped"):
            self.call("DELETE", "DELETE /clusters/{c}/volumes/{v}", f"/clusters/bench/volumes/{name}")
            self.wait_state(name, "gone")

    def run(self) -> None:
        while time.monotonic() < self.until:
            if self.rng.random() < 0.3:
                self.change()
            else:
                self.read()
        self.http.close()


def run(clients: int, seconds: float, n_nodes: int, n_volumes: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="kadalu-load-"))
    db = Database("postgres", root)
    cp = ControlPlane(root, db.url)
    cp.env.update({"KADALU_HEARTBEAT_INTERVAL": str(INTERVAL), "KADALU_NODE_TIMEOUT": "60",
                   "KADALU_METRICS_CACHE_SECONDS": "10"})
    engine = None
    try:
        cp.start()
        cp.login_admin()
        token = cp.api("POST", "/clusters", json={"name": "bench"}).json()["join_token"]
        reg = ControlPlaneClient(cp.url, timeout=60)
        sims = [SimNode(f"sim{i:02d}", reg.register(token, f"sim{i:02d}", f"10.8.0.{i + 1}", f"sim{i:02d}", "10.3"))
                for i in range(n_nodes)]
        engine = make_engine(db.url)
        traffic = Traffic(cp, engine, sims, sims)  # every node answers its brick tasks
        traffic.start()
        wait_for(lambda: list(cp.node_states("bench").values()).count("Online") == n_nodes, 120, "every node Online")
        traffic.paused.set()
        time.sleep(0.5)
        scale_seed.seed(engine, "bench", n_volumes, cp.brick_port_base, tasks=10_000)
        traffic.reload()
        traffic.paused.clear()
        seeded = [f"vol{i:05d}" for i in range(n_volumes)]
        stats = Stats()
        until = time.monotonic() + seconds
        workers = [Client(k, cp, [s.name for s in sims], seeded, stats, until) for k in range(clients)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=seconds + 180)
        elapsed = time.perf_counter() - t0
        traffic.stop.set()
        routes = stats.report()
        total = sum(r["n"] for r in routes.values())
        return {"clients": clients, "seconds": round(elapsed, 1), "nodes": n_nodes, "seeded_volumes": n_volumes,
                "requests": total, "requests_per_s": round(total / elapsed, 1), "errors": stats.error_count,
                "conflicts_409": sum(r["status"].get("409", 0) for r in routes.values()),
                "first_errors": stats.errors, "routes": routes}
    finally:
        cp.procs.stop_all()
        if engine is not None:
            engine.dispose()
        db.drop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--nodes", type=int, default=6)
    p.add_argument("--volumes", type=int, default=200, help="started volumes seeded before the run (read traffic)")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    out = run(args.clients, args.seconds, args.nodes, args.volumes)
    print(json.dumps(out, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
