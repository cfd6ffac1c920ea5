"""Every Prometheus collector in one place. State gauges are read from the database at scrape
time, so any API replica reports the same numbers as the workers that changed them.

Label sets stay bounded: clusters, nodes, volumes, bricks and devices are inventory (they grow only
when someone adds hardware or volumes), states and kinds are fixed words. Task counts and durations
cover a recent window (KADALU_METRICS_TASK_WINDOW_SECONDS) through the index on finished_at, so a
scrape does not grow with the task history."""
import time
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from controlplane.db import utcnow
from controlplane.models import Alert, Brick, Cluster, Device, Node, Rebalance, Snapshot, Task, Volume
from controlplane.services import job_runs, volume_health, volume_usage
from controlplane.services.nodes import heartbeat_age

NODE_STATES = ("Registered", "Online", "Unreachable")
ACTIVE_PHASES = ("queued", "running")
QUANTILES = (0.5, 0.9, 1.0)
REBALANCE_ACTIVE = ("starting", "in_progress", "stopping")
DURATION_SAMPLE = 5000


def _gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class StateCollector:
    def __init__(self, engine: Engine, task_window_seconds: int = 3600):
        self.engine = engine
        self.window = task_window_seconds

    def collect(self):
        with Session(self.engine) as session:
            names = dict(session.exec(select(Cluster.id, Cluster.name)).all())
            nodes = list(session.exec(select(Node)))
            yield from self._nodes(names, nodes)
            yield from self._volumes(session, names, {n.id: n for n in nodes})
            yield from self._devices(session, names, {n.id: n.name for n in nodes})
            yield from self._tasks(session)
            yield from self._alerts_and_jobs(session, names)
            yield from self._snapshots(session, names)

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
        age = _gauge("kadalu_node_heartbeat_age_seconds", "Seconds since the node's last heartbeat", "cluster", "node")
        counts: dict[tuple[str, str], int] = {}
        for node in nodes:
            cluster = names.get(node.cluster_id, node.cluster_id)
            counts[(cluster, node.state)] = counts.get((cluster, node.state), 0) + 1
            up.add_metric([cluster, node.name], 1.0 if node.state == "Online" else 0.0)
            a = heartbeat_age(node)
            if a is not None:
                age.add_metric([cluster, node.name], a)
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
        for b in session.exec(bricks):
            by_volume.setdefault(b.volume_id, []).append(b)
        counts: dict[tuple[str, str, str], int] = {}
        online: dict[tuple[str, str], int] = {}
        volume_names: dict[str, tuple[str, str]] = {}
        volumes = select(Volume.id, Volume.cluster_id, Volume.name, Volume.state, Volume.type, Volume.replica_count,
                         Volume.arbiter_count, Volume.disperse_count, Volume.redundancy_count)
        for v in session.exec(volumes):
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
        for d in session.exec(select(Device).where(col(Device.state) == "Ready")):
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


class Metrics:
    def __init__(self, engine: Engine, task_window_seconds: int = 3600):
        self.registry = CollectorRegistry()
        self.registry.register(StateCollector(engine, task_window_seconds))
        self.requests = Counter(
            "kadalu_api_requests_total", "API requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "kadalu_api_request_duration_seconds", "API request latency", ["method", "route"], registry=self.registry
        )

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)

    def render(self) -> bytes:
        return generate_latest(self.registry)
