"""Scale benchmark (issue #14): one control plane, N simulated nodes, V volumes.

    .venv/bin/python -m bench.scale --nodes 100 1000 --volumes 5000 --db postgres [--json out.json]
    .venv/bin/python -m bench.scale --nodes 100 --volumes 5000 --db sqlite

The control plane runs as its real processes (api under uvicorn, control worker, heartbeat worker,
beat; a private redis-server with the broker ACL; a private PostgreSQL database created on
127.0.0.1:5432 and dropped afterwards, or SQLite in a temporary state directory). Simulated nodes
speak the real protocol but run no gluster process: they register with the join token
(`POST /agent/register`), fetch metadata with the agent's own client (ControlPlaneClient and
contracts.metadata_delta), send signed heartbeats (their devices and bricks) and task results
over the broker. They publish with the control plane's broker login rather than one connection
per node (the messages are still each signed by their node's secret). Three of them answer the
brick tasks of the measured volume (create -> Started, `volume set`) as agents would.
The other V volumes, 3 devices per node and 100,000 finished tasks are synthetic rows
(bench/scale_seed.py). Prints every figure as JSON; docs/benchmarks.md has the results."""
import argparse
import base64
import json
import os
import re
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from celery import Celery
from sqlalchemy import String, cast, create_engine, text
from sqlmodel import Session, col, func, select

import celeryconfig
from bench import scale_seed
from contracts import metadata_delta, signing
from contracts.task_names import CONTROLPLANE_QUEUE, HEARTBEAT, HEARTBEAT_QUEUE, TASK_RESULT, node_queue
from controlplane.db import make_engine
from controlplane.models import Cluster, MetadataChange, MetadataSnapshot, Node, Volume
from controlplane.services import metadata
from nodeagent.controlplane_client import ControlPlaneClient
from tests.integration.harness import Cluster as ControlPlane
from tests.integration.harness import wait_for

PG_ADMIN = os.environ.get("KADALU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
INTERVAL = 5.0
HEALTH_CHECK_RUN = re.compile(r"health_check\[[^\]]+\] succeeded in ([0-9.]+)s")


def _q(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 4)


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": _q(values, 0.5), "p99": _q(values, 0.99), "max": _q(values, 1.0), "n": len(values)}


class Database:
    """A private PostgreSQL database on the shared server, or SQLite in the run's directory."""

    def __init__(self, kind: str, root: Path):
        self.kind = kind
        self.name = f"kadalu_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        if kind == "postgres":
            self.admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"
        else:
            (root / "server").mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite:///{root / 'server' / 'kadalu.db'}"

    def size(self, engine) -> int:
        with engine.connect() as c:
            if self.kind == "postgres":
                return int(c.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
        return Path(self.url.removeprefix("sqlite:///")).stat().st_size

    def drop(self) -> None:
        if self.kind == "postgres":
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


class SimNode:
    def __init__(self, name: str, reply: dict):
        self.name, self.id, self.secret = name, reply["node_id"], reply["node_secret"]
        self.version, self.content = 0, {}


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (prefork workers), in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return round(total / 1024, 1)


class Traffic:
    """Heartbeats of every simulated node every INTERVAL seconds (spread evenly), over the broker,
    and three nodes answering their brick tasks."""

    def __init__(self, cp: ControlPlane, engine, sims: list[SimNode], responders: list[SimNode]):
        self.engine, self.sims, self.responders = engine, sims, responders
        self.app = Celery("bench-nodes", set_as_current=False)
        self.app.conf.update(celeryconfig.agent_config(cp.broker_url, sims[0].id))
        self.redis = redis.Redis.from_url(cp.broker_url)
        self.reload()
        self.stop, self.paused = threading.Event(), threading.Event()
        self.sent = self.answered = 0

    def reload(self) -> None:
        """The nodes' devices and bricks, as their agents would report them."""
        ids = [s.id for s in self.sims]
        self.bricks, self.devices = scale_seed.brick_reports(self.engine, ids), scale_seed.device_usage(self.engine, ids)

    def heartbeat(self, sim: SimNode) -> None:
        if sim in self.responders:  # their bricks change while the measured volume comes and goes
            self.bricks[sim.id] = scale_seed.brick_reports(self.engine, [sim.id])[sim.id]
        body = {"node_id": sim.id, "hostname": sim.name, "glusterfs_version": "10.3", "agent_version": "bench",
                "metadata_version": sim.version, "sent_at": time.time(), "devices": self.devices[sim.id],
                "bricks": self.bricks[sim.id], "rebalances": []}
        self.app.send_task(HEARTBEAT, args=[signing.sign(sim.id, sim.secret, body)], queue=HEARTBEAT_QUEUE)
        self.sent += 1

    def beat_loop(self) -> None:
        n, k = len(self.sims), 0
        start = time.monotonic()
        while not self.stop.is_set():
            due = start + k * INTERVAL / n
            wait = due - time.monotonic()
            if wait > 0:
                self.stop.wait(wait)
            if self.paused.is_set():  # while rows are seeded: a report without the new bricks would mark them offline
                start, k = time.monotonic(), 0
                time.sleep(0.2)
                continue
            self.heartbeat(self.sims[k % n])
            k += 1

    def answer_loop(self) -> None:
        queues = {node_queue(s.id): s for s in self.responders}
        while not self.stop.is_set():
            got = self.redis.brpop(list(queues), timeout=1)
            if not got:
                continue
            sim = queues[got[0].decode()]
            message = json.loads(got[1])
            envelope = json.loads(base64.b64decode(message["body"]))[0][0]
            try:
                task = signing.verify(envelope, sim.secret)
            except signing.BadSignature as exc:  # signed for a secret since rotated: the agent refuses it too
                print(f"{sim.name} refused a task message: {exc}", flush=True)
                continue
            self.answered += 1
            spec = task.get("spec", {})
            data: dict[str, Any] = {}
            if task["kind"] in ("START_BRICK", "RESTART_BRICK"):
                port = next((b["port"] for b in spec["volume"]["bricks"] if b["id"] == spec["brick_id"]), 0)
                data = {"pid": 4242, "port": port}
            result = {"task_id": task["task_id"], "node_id": sim.id, "ok": True, "data": data}
            self.app.send_task(TASK_RESULT, args=[signing.sign(sim.id, sim.secret, result)], queue=CONTROLPLANE_QUEUE)

    def start(self) -> None:
        for loop in (self.beat_loop, self.answer_loop):
            threading.Thread(target=loop, daemon=True).start()


def heartbeat_lag(engine, seconds: float, traffic: Traffic, cp: ControlPlane) -> dict:
    """Send for `seconds`; every applied heartbeat's lag is its node's last_heartbeat_at (set when the
    heartbeat worker claims it) minus its sent_at, seen by polling the node rows."""
    seen: dict[str, float] = {}
    lags: list[float] = []
    sent0, t0 = traffic.sent, time.time()
    while time.time() - t0 < seconds:
        with Session(engine) as s:
            for nid, sent_at, at in s.exec(select(Node.id, Node.heartbeat_sent_at, Node.last_heartbeat_at)):
                if at is not None and sent_at > t0 and seen.get(nid) != sent_at:
                    seen[nid] = sent_at
                    lags.append(at.timestamp() - sent_at)
        time.sleep(0.5)
    elapsed = time.time() - t0
    backlog = traffic.redis.llen(HEARTBEAT_QUEUE)
    return {"sent_per_s": round((traffic.sent - sent0) / elapsed, 1), "applied_per_s": round(len(lags) / elapsed, 1),
            "lag_s": _summary(lags), "backlog_at_end": backlog}


def _until(cp: ControlPlane, name: str, done: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = cp.api("GET", f"/clusters/bench/volumes/{name}")
        state = "gone" if r.status_code == 404 else r.json().get("state", "")
        if state == done:
            return
        if state.endswith("Failed"):
            raise RuntimeError(f"{name}: {state}: {r.json().get('reason')}")
        time.sleep(0.02)
    r = cp.api("GET", f"/clusters/bench/volumes/{name}").json()
    raise RuntimeError(f"{name} did not reach {done} in {timeout}s: {r.get('state')} {r.get('reason')} "
                       f"waiting for {r.get('waiting_for')}, bricks {[(b['node'], b['state']) for b in r.get('bricks', [])]}")


def volume_ops(cp: ControlPlane, responders: list[SimNode], rounds: int) -> dict:
    times: dict[str, list[float]] = {"create_to_started": [], "set_brick_option": []}
    try:
        _volume_rounds(cp, responders, rounds, times)
    except RuntimeError as exc:  # keep what was measured
        return {**{k: _summary(v) for k, v in times.items()}, "error": str(exc)}
    return {k: _summary(v) for k, v in times.items()}


def _volume_rounds(cp: ControlPlane, responders: list[SimNode], rounds: int, times: dict[str, list[float]]) -> None:
    for r in range(rounds):
        name = f"measured{r}"
        bricks = [f"{s.name}:/d1/{name}" for s in responders]
        t0 = time.perf_counter()
        cp.api("POST", "/clusters/bench/volumes", json={"name": name, "bricks": bricks, "replica": 3}).raise_for_status()
        _until(cp, name, "Started")
        times["create_to_started"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        level = "DEBUG" if r % 2 else "WARNING"
        cp.api("POST", f"/clusters/bench/volumes/{name}/options",
               json={"set": {"diagnostics.brick-log-level": level}}).raise_for_status()
        time.sleep(0.05)
        _until(cp, name, "Started")
        times["set_brick_option"].append(time.perf_counter() - t0)
        cp.api("POST", f"/clusters/bench/volumes/{name}/stop", json={}).raise_for_status()
        _until(cp, name, "Stopped")
        cp.api("DELETE", f"/clusters/bench/volumes/{name}").raise_for_status()
        _until(cp, name, "gone")


def _change_one_volume(engine, cid: str, name: str, value: int) -> float:
    with Session(engine) as s:
        vol = s.exec(select(Volume).where(col(Volume.cluster_id) == cid, col(Volume.name) == name)).one()
        vol.options = {**vol.options, "performance.cache-size": value}
        s.add(vol)
        metadata.changed(s, cid, volume_id=vol.id)
        t0 = time.perf_counter()
        s.commit()
        return time.perf_counter() - t0


def metadata_figures(cp: ControlPlane, db: Database, engine, cid: str, sims: list[SimNode]) -> dict:
    out: dict[str, Any] = {}
    out["one_version_commit_s"] = _summary([_change_one_volume(engine, cid, "vol00001", 1 << (20 + i % 8))
                                            for i in range(20)])
    with Session(engine) as s:
        snap = s.exec(select(func.max(MetadataSnapshot.size_bytes), func.max(func.length(MetadataSnapshot.data)))
                      .where(col(MetadataSnapshot.cluster_id) == cid)).one()
    out["snapshot_bytes"] = {"json": snap[0], "gzip": snap[1]}
    client = ControlPlaneClient(cp.url, timeout=120)
    full_s, wire = [], 0
    for sim in sims[:5]:
        t0 = time.perf_counter()
        r = httpx.get(f"{cp.url}/api/v1/agent/metadata", headers={"Authorization": f"Node {sim.id}:{sim.secret}"},
                      timeout=120)
        full_s.append(time.perf_counter() - t0)
        wire, body = r.num_bytes_downloaded, r.json()
        sim.version, sim.content = body["version"], body["content"]
    out["complete_copy"] = {"s": _summary(full_s), "wire_bytes": wire, "json_bytes": len(json.dumps(body["content"]))}
    for sim in sims[5:]:  # the others start from the same copy, as if they had fetched it
        sim.version, sim.content = body["version"], body["content"]
    nothing = []
    for sim in sims[:50]:
        t0 = time.perf_counter()
        assert client.metadata(sim.id, sim.secret, since=sim.version) is None
        nothing.append(time.perf_counter() - t0)
    out["nothing_changed_s"] = _summary(nothing)
    _change_one_volume(engine, cid, "vol00002", 12345678)  # a change that concerns three nodes at most
    sample = sims[:: max(1, len(sims) // 100)]
    delta_bytes, delta_s = [], []
    for sim in sample:
        t0 = time.perf_counter()
        r = httpx.get(f"{cp.url}/api/v1/agent/metadata", params={"since": sim.version},
                      headers={"Authorization": f"Node {sim.id}:{sim.secret}"}, timeout=60)
        delta_s.append(time.perf_counter() - t0)
        delta_bytes.append(r.num_bytes_downloaded)
        sim.version, sim.content = metadata_delta.apply(sim.content, sim.version, r.json()["changes"])
    with Session(engine) as s:
        assert metadata.current(s, cid).content == sample[0].content, "a node's copy after the delta is not current"
    out["after_one_change"] = {"wire_bytes_per_node": _summary([float(b) for b in delta_bytes]), "s": _summary(delta_s)}
    before = db.size(engine)
    for i in range(1000):
        _change_one_volume(engine, cid, f"vol{i % 50:05d}", 1 << (20 + i % 10))
    with Session(engine) as s:
        mean = s.exec(select(func.avg(func.length(cast(MetadataChange.change, String))))).one()
        metadata.compact(s, cid)
        kept = s.exec(select(func.count(), func.coalesce(func.sum(func.length(cast(MetadataChange.change, String))), 0))).one()
    out["per_1000_changes"] = {"database_growth_bytes": db.size(engine) - before,
                               "log_bytes_written": round(1000 * float(mean or 0)),
                               "log_rows_and_bytes_kept_after_compaction": list(kept)}
    return out


def run(n_nodes: int, n_volumes: int, db_kind: str, beat_seconds: float, rounds: int, heartbeat_workers: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"kadalu-scale-{n_nodes}-"))
    db = Database(db_kind, root)
    cp = ControlPlane(root, db.url)
    # the node timeout covers the seeding, while heartbeats pause
    cp.env.update({"KADALU_HEARTBEAT_INTERVAL": str(INTERVAL), "KADALU_NODE_TIMEOUT": "600",
                   "KADALU_REDISPATCH_AFTER": "30", "KADALU_BROKER_SYNC_INTERVAL": "60",
                   "KADALU_HEARTBEAT_WORKERS": str(heartbeat_workers),
                   "KADALU_METRICS_CACHE_SECONDS": "10"})  # the default (the test harness turns it off)
    engine = None
    out: dict[str, Any] = {"nodes": n_nodes, "volumes": n_volumes, "db": db_kind, "heartbeat_workers": heartbeat_workers}
    try:
        cp.start()
        cp.login_admin()
        token = cp.api("POST", "/clusters", json={"name": "bench"}).json()["join_token"]
        client = ControlPlaneClient(cp.url, timeout=60)
        sims, reg = [], []
        for i in range(n_nodes):
            t0 = time.perf_counter()
            reply = client.register(token, f"sim{i:04d}", f"10.9.{i // 250}.{i % 250 + 1}", f"sim{i:04d}", "10.3")
            reg.append(time.perf_counter() - t0)
            sims.append(SimNode(f"sim{i:04d}", reply))
        out["register_s"] = _summary(reg)
        engine = make_engine(db.url)
        # every node beats from here on, as in a running cluster (silent nodes would go Unreachable
        # and every volume Down: the health check's alert storm is not what is measured here)
        traffic = Traffic(cp, engine, sims, sims[:3])
        traffic.start()
        wait_for(lambda: list(cp.node_states("bench").values()).count("Online") == n_nodes, 120, "every node Online")
        t0 = time.perf_counter()
        traffic.paused.set()
        time.sleep(0.5)
        out["seeded"] = scale_seed.seed(engine, "bench", n_volumes, cp.brick_port_base)
        out["seed_s"] = round(time.perf_counter() - t0, 1)
        traffic.reload()
        traffic.paused.clear()
        with Session(engine) as s:
            cid = s.exec(select(Cluster.id).where(col(Cluster.name) == "bench")).one()
        reg_again = []
        for sim in sims[:20]:  # registration once the cluster is full: its cost must not follow the cluster's size
            t0 = time.perf_counter()
            reply = client.register(None, sim.name, f"10.9.{int(sim.name[3:]) // 250}.{int(sim.name[3:]) % 250 + 1}",
                                    sim.name, "10.3", node_id=sim.id, node_secret=sim.secret)
            reg_again.append(time.perf_counter() - t0)
            sim.secret = reply["node_secret"]
        out["register_full_cluster_s"] = _summary(reg_again)
        time.sleep(INTERVAL + 2)
        out["metadata"] = metadata_figures(cp, db, engine, cid, sims)
        out["volume_list"] = volume_list(cp)
        out["metrics"] = scrape(cp)
        out["heartbeats"] = heartbeat_lag(engine, beat_seconds, traffic, cp)
        out["volume_ops_under_heartbeats"] = volume_ops(cp, sims[:3], rounds)
        out["heartbeats_during_ops"] = heartbeat_lag(engine, 10, traffic, cp)
        health = [cp.api("GET", "/clusters/bench").elapsed.total_seconds() for _ in range(3)]
        out["cluster_status_s"] = _summary(health)
        traffic.stop.set()
        out["memory_mb"] = {name: _rss_mb(p.pid) for name, p in cp.procs.procs.items()}
        logs = (root / "logs" / "worker.log").read_text(errors="replace")
        out["health_check_s"] = _summary([float(x) for x in HEALTH_CHECK_RUN.findall(logs)])
    finally:
        cp.procs.stop_all()
        if engine is not None:
            engine.dispose()
        db.drop()
    return out


def volume_list(cp: ControlPlane) -> dict:
    pages, size, cursor = [], 0, None
    while True:
        t0 = time.perf_counter()
        r = cp.api("GET", "/clusters/bench/volumes", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        pages.append(time.perf_counter() - t0)
        size += len(r.content)
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    t0 = time.perf_counter()
    big = cp.api("GET", "/clusters/bench/volumes", params={"limit": 1000})
    return {"page_100_s": _summary(pages), "pages": len(pages), "all_pages_bytes": size,
            "page_1000_s": round(time.perf_counter() - t0, 3), "page_1000_bytes": len(big.content)}


def scrape(cp: ControlPlane, scrapes: int = 4, every: float = 11.0) -> dict:
    """The first scrape reads the state itself; later ones, `every` seconds apart as Prometheus scrapes
    (15 s by default, longer than KADALU_METRICS_CACHE_SECONDS), answer from the snapshot and start its
    refresh in the background. Reports both, and how old the snapshot each scrape got was."""
    def one() -> tuple[float, int, float]:
        t0 = time.perf_counter()
        r = httpx.get(f"{cp.url}/metrics", headers={"Authorization": f"Bearer {cp.token}"}, timeout=120)
        took = time.perf_counter() - t0
        age = re.search(r"^kadalu_metrics_state_age_seconds (\S+)$", r.text, re.M)
        return took, len(r.content), float(age.group(1)) if age else float("nan")
    first, size, _ = one()
    times, ages = [], []
    for _ in range(scrapes):
        time.sleep(every)
        took, size, age = one()
        times.append(took)
        ages.append(age)
    return {"first_s": round(first, 3), "s": _summary(times), "snapshot_age_s": _summary(ages), "bytes": size}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="+", default=[100])
    p.add_argument("--volumes", type=int, default=5000)
    p.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--beat-seconds", type=float, default=30.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--heartbeat-workers", type=int, default=1, help="KADALU_HEARTBEAT_WORKERS")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    results = []
    for n in args.nodes:
        results.append(run(n, args.volumes, args.db, args.beat_seconds, args.rounds, args.heartbeat_workers))
        print(json.dumps(results[-1], indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
