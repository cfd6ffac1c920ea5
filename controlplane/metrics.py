"""Every Prometheus collector in one place. State gauges are read from the database at scrape
time, so any API replica reports the same numbers as the workers that changed them.

Label sets stay bounded: clusters, nodes, volumes, bricks and devices are inventory (they grow only
when someone adds hardware or volumes), states and kinds are fixed words. Task counts and durations
cover a recent window (KADALU_METRICS_TASK_WINDOW_SECONDS) through the index on finished_at, so a
scrape does not grow with the task history."""
import logging
import threading
import time
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from controlplane.db import utcnow
from controlplane.metrics_text import AgeGauge, Gauge, render
from controlplane.models import (
    Alert,
    Brick,
    Cluster,
    Device,
    GeoRepSession,
    GeoRepWorker,
    Node,
    Rebalance,
    Snapshot,
    Task,
    Volume,
)
from controlplane.quota_metrics import QuotaCollector
from controlplane.services import job_runs, volume_health, volume_usage

log = logging.getLogger(__name__)
NODE_STATES = ("Registered", "Online", "Unreachable")
ACTIVE_PHASES = ("queued", "running")
QUANTILES = (0.5, 0.9, 1.0)
REBALANCE_ACTIVE = ("starting", "in_progress", "stopping")
DURATION_SAMPLE = 5000


def _gauge(name: str, doc: str, *labels: str) -> Gauge:
    return Gauge(name, doc, labels)


class StateCollector:
    def __init__(self, engine: Engine, task_window_seconds: int = 3600):
        self.engine = engine
        self.window = task_window_seconds

    def collect(self):
        """For a prometheus_client registry (the straightforward rendering; /metrics uses families())."""
        return [family.to_prometheus() for family in self.families()]

    def families(self) -> list[Gauge]:
        with Session(self.engine) as session:
            return list(self._families(session))

    def _families(self, session):
        names = dict(session.exec(select(Cluster.id, Cluster.name)).all())
        nodes = list(session.exec(select(Node)))
        yield from self._nodes(names, nodes)
        yield from self._volumes(session, names, {n.id: n for n in nodes})
        yield from self._devices(session, names, {n.id: n.name for n in nodes})
        yield from self._tasks(session)
        yield from self._alerts_and_jobs(session, names)
        yield from self._georep(session, names)
        yield from self._snapshots(session, names)

    def _georep(self, session, names):
        """Sessions by state, and per master brick the worker's status and how far it synced."""
        sessions_g = _gauge("kadalu_georep_sessions", "Geo-replication sessions by state", "cluster", "state")
        lag = _gauge("kadalu_georep_worker_last_synced_seconds",
                     "Seconds since the Active worker's last synced time (0 until it reports one)",
                     "cluster", "session", "node")
        pending = _gauge("kadalu_georep_worker_pending", "Entries, data and meta operations the worker still has to sync",
                         "cluster", "session", "node")
        counts: dict[tuple[str, str], int] = {}
        rows = session.exec(select(GeoRepSession.id, GeoRepSession.cluster_id, GeoRepSession.state)).all()
        cluster_of = {r.id: names.get(r.cluster_id, r.cluster_id) for r in rows}
        for r in rows:
            key = (cluster_of[r.id], r.state)
            counts[key] = counts.get(key, 0) + 1
        for (cluster, state), n in sorted(counts.items()):
            sessions_g.add_metric([cluster, state], n)
        node_names = dict(session.exec(select(Node.id, Node.name)).all())
        now = time.time()
        for w in session.exec(select(GeoRepWorker).where(col(GeoRepWorker.role) == "Active")):
            labels = [cluster_of.get(w.session_id, ""), w.session_id, node_names.get(w.node_id, w.node_id)]
            lag.add_metric(labels, max(0.0, now - w.last_synced) if w.last_synced else 0.0)
            pending.add_metric(labels, float(w.entry + w.data + w.meta))
        yield from (sessions_g, lag, pending)

    def _snapshots(self, session, names):
        g = _gauge("kadalu_snapshots", "Snapshots by cluster and state (Failed: see their reason)", "cluster", "state")
        rows = session.exec(select(Snapshot.cluster_id, Snapshot.state, func.count()).group_by(Snapshot.cluster_id,
                                                                                               Snapshot.state))
        for cluster_id, state, n in rows:
            g.add_metric([names.get(cluster_id, cluster_id), state], float(n))
        yield g

    def _nodes(self, names, nodes):
        nodes_g = _gauge("kadalu_nodes", "Nodes by cluster and state", "cluster", "state")
        up = _gauge("kadalu_node_online", "1 if the node is Online", "cluster", "node")
        age = AgeGauge("kadalu_node_heartbeat_age_seconds", "Seconds since the node's last heartbeat", ["cluster", "node"])
        counts: dict[tuple[str, str], int] = {}
        for node in nodes:
            cluster = names.get(node.cluster_id, node.cluster_id)
            counts[(cluster, node.state)] = counts.get((cluster, node.state), 0) + 1
            up.add_metric([cluster, node.name], 1.0 if node.state == "Online" else 0.0)
            if node.last_heartbeat_at is not None:
                age.add_metric([cluster, node.name], node.last_heartbeat_at.timestamp())
        for cluster in names.values():
            for state in NODE_STATES:
                nodes_g.add_metric([cluster, state], counts.get((cluster, state), 0))
        return nodes_g, up, age

    def _volumes(self, session, names, nodes):
        volumes_g = _gauge("kadalu_volumes", "Volumes by state and health", "cluster", "state", "health")
        bricks_g = _gauge("kadalu_bricks", "Bricks by online status", "cluster", "online")
        state_g = _gauge("kadalu_volume_state", "1 for the volume's state", "cluster", "volume", "state")
        health_g = _gauge("kadalu_volume_health", "1 for the volume's health (Up, Degraded, Down) while it runs",
                          "cluster", "volume", "health")
        cap = _gauge("kadalu_volume_capacity_bytes", "Space the volume can hold, from its bricks' reports", "cluster", "volume")
        used = _gauge("kadalu_volume_used_bytes", "Space used on the volume", "cluster", "volume")
        free = _gauge("kadalu_volume_free_bytes", "Space free on the volume", "cluster", "volume")
        b_online = _gauge("kadalu_brick_online", "1 if the brick process runs (and its node is Online)",
                          "cluster", "volume", "node", "brick")
        b_heal = _gauge("kadalu_brick_heal_pending", "Entries on the brick waiting for self-heal",
                        "cluster", "volume", "node", "brick")
        states = {n.id: n.state for n in nodes.values()}
        # plain rows, not ORM objects: a scrape reads every brick and volume (15,000 and 5,000 at scale)
        by_volume: dict[str, list] = {}
        bricks = select(Brick.volume_id, Brick.idx, Brick.node_id, Brick.path, Brick.online, Brick.heal_pending,
                        Brick.size_bytes, Brick.free_bytes).order_by(col(Brick.volume_id), col(Brick.idx))
        rows = session.connection().execute  # plain Core rows: no ORM bookkeeping per row
        for b in rows(bricks):
            by_volume.setdefault(b.volume_id, []).append(b)
        counts: dict[tuple[str, str, str], int] = {}
        online: dict[tuple[str, str], int] = {}
        volume_names: dict[str, tuple[str, str]] = {}
        volumes = select(Volume.id, Volume.cluster_id, Volume.name, Volume.state, Volume.type, Volume.replica_count,
                         Volume.arbiter_count, Volume.disperse_count, Volume.redundancy_count)
        for v in rows(volumes):
            cluster = names.get(v.cluster_id, v.cluster_id)
            volume_names[v.id] = (cluster, v.name)
            bricks = by_volume.get(v.id, [])
            health = volume_health.health(v, bricks, states)
            key = (cluster, v.state, health or "none")
            counts[key] = counts.get(key, 0) + 1
            state_g.add_metric([cluster, v.name, v.state], 1)
            if health:
                health_g.add_metric([cluster, v.name, health], 1)
            use = volume_usage.usage(v, bricks)
            if use.size_bytes:
                cap.add_metric([cluster, v.name], use.size_bytes)
                used.add_metric([cluster, v.name], use.used_bytes)
                free.add_metric([cluster, v.name], use.free_bytes)
            for b in bricks:
                is_up = volume_health.brick_is_online(b, states)
                k = (cluster, "1" if is_up else "0")
                online[k] = online.get(k, 0) + 1
                labels = [cluster, v.name, nodes[b.node_id].name if b.node_id in nodes else b.node_id, b.path]
                b_online.add_metric(labels, 1.0 if is_up else 0.0)
                b_heal.add_metric(labels, b.heal_pending)
        for key, n in counts.items():
            volumes_g.add_metric(list(key), n)
        for key, n in online.items():
            bricks_g.add_metric(list(key), n)
        yield from (volumes_g, bricks_g, state_g, health_g, cap, used, free, b_online, b_heal)
        yield from self._rebalance(session, volume_names, {i: n.name for i, n in nodes.items()})

    def _rebalance(self, session, volume_names, node_names):
        files = _gauge("kadalu_rebalance_files", "Files of the current or last rebalance run on the node, by result "
                       "(scanned, moved, failed, skipped)", "cluster", "volume", "node", "result")
        moved = _gauge("kadalu_rebalance_bytes_moved", "Bytes moved by the current or last rebalance run",
                       "cluster", "volume", "node")
        running = _gauge("kadalu_rebalance_running", "1 while a rebalance runs on the node", "cluster", "volume", "node")
        for r in session.exec(select(Rebalance)):
            if r.volume_id not in volume_names:
                continue
            labels = [*volume_names[r.volume_id], node_names.get(r.node_id, r.node_id)]
            for result in ("scanned", "moved", "failed", "skipped"):
                files.add_metric([*labels, result], getattr(r, f"files_{result}"))
            moved.add_metric(labels, r.bytes_moved)
            running.add_metric(labels, 1.0 if r.state in REBALANCE_ACTIVE else 0.0)
        return files, moved, running

    def _devices(self, session, names, node_names):
        size = _gauge("kadalu_device_size_bytes", "Size of the device's filesystem", "cluster", "node", "device")
        free = _gauge("kadalu_device_free_bytes", "Free space on the device", "cluster", "node", "device")
        ready = select(Device.cluster_id, Device.node_id, Device.path, Device.size_bytes, Device.free_bytes).where(
            col(Device.state) == "Ready")
        for d in session.connection().execute(ready):
            labels = [names.get(d.cluster_id, d.cluster_id), node_names.get(d.node_id, d.node_id), d.path]
            size.add_metric(labels, d.size_bytes)
            free.add_metric(labels, d.free_bytes)
        return size, free

    def _tasks(self, session):
        active = _gauge("kadalu_tasks", "Tasks waiting or running, by kind and phase", "kind", "phase")
        for kind, phase, n in session.exec(select(Task.kind, Task.phase, func.count())
                                           .where(col(Task.phase).in_(ACTIVE_PHASES)).group_by(Task.kind, Task.phase)):
            active.add_metric([kind, phase], n)
        window = _gauge("kadalu_metrics_task_window_seconds", "The window of the *_window task metrics")
        window.add_metric([], self.window)
        finished = _gauge("kadalu_tasks_finished_window", "Tasks finished in the window, by kind and phase (done, failed)",
                          "kind", "phase")
        durations = _gauge("kadalu_task_duration_window_seconds", "From queued to finished, over the tasks finished in the "
                           f"window (the last {DURATION_SAMPLE} of them): median, 90th percentile, longest (quantile 1)",
                           "kind", "quantile")
        since = utcnow() - timedelta(seconds=self.window)
        # counted by the database; durations from the newest tasks only (index on finished_at), so a
        # scrape costs the same with 100,000 tasks in the window as with 1,000
        counted = (select(Task.kind, Task.phase, func.count()).where(col(Task.finished_at) >= since)
                   .group_by(Task.kind, Task.phase))
        for kind, phase, n in session.exec(counted):
            finished.add_metric([kind, phase], n)
        seconds: dict[str, list[float]] = {}
        recent = (select(Task.kind, Task.created_at, Task.finished_at).where(col(Task.finished_at) >= since)
                  .order_by(col(Task.finished_at).desc()).limit(DURATION_SAMPLE))
        for kind, created, done in session.exec(recent):
            seconds.setdefault(kind, []).append((done - created).total_seconds())
        for kind, values in seconds.items():
            values.sort()
            for q in QUANTILES:
                durations.add_metric([kind, str(q)], values[min(len(values) - 1, int(q * len(values)))])
        return active, window, finished, durations

    def _alerts_and_jobs(self, session, names):
        firing = _gauge("kadalu_alerts_firing", "Open alerts raised by the control plane", "cluster", "kind", "severity")
        stmt = (select(Alert.cluster_id, Alert.kind, Alert.severity, func.count()).where(col(Alert.state) == "firing")
                .group_by(Alert.cluster_id, Alert.kind, Alert.severity))
        for cluster_id, kind, severity, n in session.exec(stmt):
            firing.add_metric([names.get(cluster_id, cluster_id), kind, severity], n)
        jobs = _gauge("kadalu_job_last_run_timestamp_seconds", "When beat's job last finished (Unix time)", "name")
        for name, at in job_runs.last_runs(session).items():
            jobs.add_metric([name], at)
        return firing, jobs


class _Delegate:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


class Metrics:
    """/metrics: the state gauges from a snapshot, the API's own counters live.

    Reading the state is heavy at scale (every node, volume, brick and device: 3 s of CPU at 1,000
    nodes / 5,000 volumes on a loaded 2-core machine), so a scrape answers from the last snapshot
    when it is at most `cache_seconds` old; when it is older (but not older than `stale_seconds`)
    the scrape still answers from it and one refresh starts in the background, so the next scrape
    gets fresh figures and no scrape waits for the database. `kadalu_metrics_state_age_seconds`
    tells how old the snapshot a scrape got is. cache_seconds=0: every scrape reads the state."""

    def __init__(self, engine: Engine, task_window_seconds: int = 3600, cache_seconds: float = 0.0):
        self.state = StateCollector(engine, task_window_seconds)
        self.quota = QuotaCollector(engine)
        self.api = CollectorRegistry()
        self.requests = Counter(
            "kadalu_api_requests_total", "API requests", ["method", "route", "status"], registry=self.api
        )
        self.latency = Histogram(
            "kadalu_api_request_duration_seconds", "API request latency", ["method", "route"], registry=self.api
        )
        self.registry = CollectorRegistry()  # everything, through prometheus_client (what render() writes faster)
        self.registry.register(self.state)
        self.registry.register(self.quota)
        self.registry.register(_Delegate(self.api))
        self.cache_seconds = cache_seconds
        self.stale_seconds = max(60.0, 6 * cache_seconds)
        self._snapshot: tuple[float, bytes, list[Gauge]] | None = None  # taken at, text, families written at scrape
        self._refreshing = threading.Lock()

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)

    def _refresh(self) -> tuple[float, bytes, list[Gauge]]:
        taken = time.monotonic()
        families = self.state.families() + self.quota.families()
        live: list[Gauge] = [f for f in families if isinstance(f, AgeGauge)]
        snapshot = (taken, render(f for f in families if not isinstance(f, AgeGauge)), live)
        self._snapshot = snapshot
        return snapshot

    def _refresh_then_release(self) -> None:
        try:
            self._refresh()
        except Exception:  # the next scrape tries again (and reads the state itself once the snapshot is stale)
            log.exception("refreshing the metrics snapshot failed")
        finally:
            self._refreshing.release()

    def state_text(self) -> tuple[bytes, float]:
        """The state gauges and their age in seconds."""
        snapshot = self._snapshot
        age = time.monotonic() - snapshot[0] if snapshot else float("inf")
        if snapshot is None or age > self.stale_seconds or self.cache_seconds <= 0:
            with self._refreshing:
                snapshot = self._refresh()
            age = time.monotonic() - snapshot[0]
        elif age > self.cache_seconds and self._refreshing.acquire(blocking=False):
            threading.Thread(target=self._refresh_then_release, name="metrics-refresh", daemon=True).start()
        return snapshot[1] + render(snapshot[2]), age

    def render(self) -> bytes:
        text, age = self.state_text()
        gauge = Gauge("kadalu_metrics_state_age_seconds",
                      "How old the state gauges of this scrape are (KADALU_METRICS_CACHE_SECONDS)")
        gauge.add_metric([], round(age, 3))
        return text + render([gauge]) + generate_latest(self.api)
