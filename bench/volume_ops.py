"""Benchmark: volume create -> Started, set (a brick-side and a client-side option), stop, start, delete latency
for a replica-3 volume with N node agents on this machine (real control plane processes, real glusterfsd bricks).

    flock /tmp/kadalu-integration.lock .venv/bin/python -m bench.volume_ops --agents 3 10 30 50 --rounds 5 [--json out.json]

Each operation is timed from the HTTP request to the volume reaching its final state (polled
every 20 ms). An option change is over when the volume is Started again, which the control plane
records only when every brick's agent saw the brick fetch its new volfile (applied in place, same
pids: checked after each set, a restart fails the run). Prints a table of medians and the same
numbers as JSON. Only three of the N nodes hold the volume: the cost should not grow with N
(glusterd's does, see docs/benchmarks.md)."""
import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.integration.harness import Cluster, wait_for

OPS = ("create+start", "set brick", "set client", "stop", "start", "delete")


def _until(cp: Cluster, name: str, done: str) -> float:
    t0 = time.perf_counter()
    while True:
        r = cp.api("GET", f"/clusters/bench/volumes/{name}")
        if done == "gone" and r.status_code == 404:
            return time.perf_counter() - t0
        state = r.json().get("state", "")
        if state == done:
            return time.perf_counter() - t0
        if state.endswith("Failed"):
            raise RuntimeError(f"{name}: {state}: {r.json().get('reason')}")
        time.sleep(0.02)


def _action(cp: Cluster, name: str, verb: str, done: str) -> float:
    t0 = time.perf_counter()
    cp.api("POST", f"/clusters/bench/volumes/{name}/{verb}", json={}).raise_for_status()
    return time.perf_counter() - t0 + _until(cp, name, done)


def _pids(cp: Cluster, name: str) -> list[int]:
    return [b["pid"] for b in cp.api("GET", f"/clusters/bench/volumes/{name}").json()["bricks"]]


def _set_option(cp: Cluster, name: str, option: str, value: str) -> tuple[float, dict[str, float]]:
    """From the request until every brick of the volume runs with it (the volume is Started again);
    and the wall-clock marks of that change (see `live_step_split`)."""
    before = _pids(cp, name)
    marks = {"request": time.time()}
    t0 = time.perf_counter()
    body = {"set": {option: value}}
    cp.api("POST", f"/clusters/bench/volumes/{name}/options", json=body).raise_for_status()
    marks["answered"] = time.time()
    took = time.perf_counter() - t0 + _until(cp, name, "Started")
    marks["seen"] = time.time()
    if _pids(cp, name) != before:
        raise RuntimeError(f"{name}: {option} restarted bricks: {before} -> {_pids(cp, name)}")
    return took, marks


def _when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def live_step_split(cp: Cluster, marks: dict[str, float]) -> dict[str, float]:
    """Where the last live change's time went (one machine: the clocks agree), from the bench's own
    marks and its RECONFIGURE_BRICK tasks, each part up to the last of the three bricks:
    - API: request -> the task rows' commit time (validate, compare graph shapes, store, bump metadata)
    - answer: -> the API's answer reached the bench (commit, outbox send to Redis, HTTP)
    - to agent: commit -> the agents' handlers began (broker, agent's Celery consumer, signature check,
      the progress message sent)
    - agent: the handlers (volfile, FETCHSPEC, the brick's GETSPEC and reconfigure, self-heal daemon)
    - result: handler end -> the control worker applied the result and settled the step (Started)
    - seen: -> the bench's poll saw Started (20 ms poll, a GET)."""
    rows = cp.api("GET", "/clusters/bench/tasks", params={"limit": 50}).json()["data"]
    # the rounds run one after the other: the newest three are this change's
    mine = sorted((t for t in rows if t["kind"] == "RECONFIGURE_BRICK"), key=lambda t: t["created_at"])[-3:]
    if not mine or not all(t["started_at"] and t["finished_at"] for t in mine):
        return {}
    results = [t["result"] or {} for t in mine]
    if not all("began_at" in r for r in results):
        return {}
    created = max(_when(t["created_at"]) for t in mine)
    began = max(float(r["began_at"]) for r in results)
    ended = max(float(r["ended_at"]) for r in results)
    finished = max(_when(t["finished_at"]) for t in mine)
    return {"API": created - marks["request"], "answer": marks["answered"] - created, "to agent": began - created,
            "agent": ended - began, "result": finished - ended, "seen": marks["seen"] - finished,
            "agent handler (max)": max(float(r.get("seconds", 0.0)) for r in results)}


def create_split(cp: Cluster, request: float, seen: float) -> dict[str, float]:
    """Where create -> Started went, from the newest CREATE_BRICK and START_BRICK tasks (three each),
    each part up to the last brick: API (request -> rows written), create (-> the last CREATE_BRICK
    result applied: broker, agent, brick directory, result), to start (-> START_BRICK rows, written
    in that same transaction), start (-> the last START_BRICK result applied: glusterfsd started and
    listening, self-heal daemon started), seen (-> the bench's poll saw Started)."""
    rows = cp.api("GET", "/clusters/bench/tasks", params={"limit": 50}).json()["data"]

    def newest(kind: str) -> list[dict]:
        return sorted((t for t in rows if t["kind"] == kind), key=lambda t: t["created_at"])[-3:]

    create, start = newest("CREATE_BRICK"), newest("START_BRICK")
    if len(create) < 3 or len(start) < 3 or not all(t["finished_at"] for t in create + start):
        return {}
    created = max(_when(t["created_at"]) for t in create)
    created_done = max(_when(t["finished_at"]) for t in create)
    start_rows = max(_when(t["created_at"]) for t in start)
    started = max(_when(t["finished_at"]) for t in start)
    return {"API": created - request, "create": created_done - created, "to start": start_rows - created_done,
            "start": started - start_rows, "seen": seen - started}


def add_devices(cp: Cluster) -> None:
    """Bricks are accepted only inside a Ready device: <root>/bricks/node<i> on the three volume nodes."""
    tasks = []
    for i in (1, 2, 3):
        path = cp.root / "bricks" / f"node{i}"
        path.mkdir(parents=True, exist_ok=True)
        r = cp.api("POST", f"/clusters/bench/nodes/node{i}/devices", json={"path": str(path)})
        r.raise_for_status()
        tasks.append(r.json()["task"]["id"])
    for task_id in tasks:
        if cp.wait_task_done(task_id)["phase"] != "done":
            raise RuntimeError(f"device task {task_id}: {cp.task(task_id)}")


def run(n_agents: int, rounds: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"kadalu-bench-{n_agents}-"))
    cp = Cluster(root)
    try:
        cp.start()
        cp.login_admin()
        token = cp.api("POST", "/clusters", json={"name": "bench"}).json()["join_token"]
        for i in range(1, n_agents + 1):
            cp.start_agent(f"node{i}", f"127.0.1.{i}", token)
        wait_for(lambda: list(cp.node_states("bench").values()).count("Online") == n_agents, 300,
                 f"{n_agents} agents Online", cp.procs.tails)
        add_devices(cp)
        times: dict[str, list[float]] = {op: [] for op in OPS}
        split: dict[str, list[float]] = {}
        csplit: dict[str, list[float]] = {}
        for r in range(rounds):
            name = f"bv{r}"
            bricks = [f"node{i}:{root}/bricks/node{i}/{name}-b" for i in (1, 2, 3)]
            t0, request = time.perf_counter(), time.time()
            resp = cp.api("POST", "/clusters/bench/volumes", json={"name": name, "replica": 3, "bricks": bricks})
            resp.raise_for_status()
            times["create+start"].append(time.perf_counter() - t0 + _until(cp, name, "Started"))
            for part, secs in create_split(cp, request, time.time()).items():
                csplit.setdefault(part, []).append(secs)
            took, marks = _set_option(cp, name, "performance.io-thread-count", str(20 + r))
            times["set brick"].append(took)
            for part, secs in live_step_split(cp, marks).items():
                split.setdefault(part, []).append(secs)
            took, _ = _set_option(cp, name, "performance.write-behind-window-size", f"{2 + r}MB")
            times["set client"].append(took)
            times["stop"].append(_action(cp, name, "stop", "Stopped"))
            times["start"].append(_action(cp, name, "start", "Started"))
            _action(cp, name, "stop", "Stopped")  # a volume is deleted when stopped
            t0 = time.perf_counter()
            cp.api("DELETE", f"/clusters/bench/volumes/{name}").raise_for_status()
            times["delete"].append(time.perf_counter() - t0 + _until(cp, name, "gone"))
        medians = {op: statistics.median(v) for op, v in times.items()}
        medians.update({f"create: {part}": statistics.median(v) for part, v in csplit.items()})
        medians.update({f"set brick: {part}": statistics.median(v) for part, v in split.items()})
        return medians
    finally:
        cp.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, nargs="+", default=[3, 10, 30, 50])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    results: dict[int, dict[str, float]] = {}
    failed: dict[int, str] = {}
    for n in args.agents:  # each N's figures are kept (and written) as soon as it finishes
        try:
            results[n] = run(n, args.rounds)
        except Exception as exc:  # e.g. a loaded machine where N agents do not come Online in time
            failed[n] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        out = {"unit": "seconds (median)", "rounds": args.rounds, "results": {str(k): m for k, m in results.items()},
               "failed": {str(k): v for k, v in failed.items()}}
        if args.json:
            args.json.write_text(json.dumps(out, indent=2))
    print(f"{'agents':>6} | " + " | ".join(f"{op:>12}" for op in OPS))
    for n, medians in results.items():
        print(f"{n:>6} | " + " | ".join(f"{medians[op]:>11.3f}s" for op in OPS))
        print("       " + ", ".join(f"{k} {v:.3f}s" for k, v in medians.items() if k not in OPS))
    for n, why in failed.items():
        print(f"{n:>6} | failed: {why}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
