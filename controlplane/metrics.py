"""Every Prometheus collector in one place. State gauges are read from the database at scrape
time, so any API replica reports the same numbers as the workers that changed them."""
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from controlplane.models import Brick, Cluster, Node, Task, Volume
from controlplane.services import volume_health
from controlplane.services.nodes import heartbeat_age

NODE_STATES = ("Registered", "Online", "Unreachable")


class StateCollector:
    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        nodes_g = GaugeMetricFamily("kadalu_nodes", "Nodes by cluster and state", labels=["cluster", "state"])
        up = GaugeMetricFamily("kadalu_node_online", "1 if the node is Online", labels=["cluster", "node"])
        age = GaugeMetricFamily("kadalu_node_heartbeat_age_seconds", "Seconds since the node's last heartbeat", labels=["cluster", "node"])
        tasks_g = GaugeMetricFamily("kadalu_tasks", "Tasks by kind and phase", labels=["kind", "phase"])
        with Session(self.engine) as session:
            names = dict(session.exec(select(Cluster.id, Cluster.name)).all())
            counts: dict[tuple[str, str], int] = {}
            for node in session.exec(select(Node)):
                cluster = names.get(node.cluster_id, node.cluster_id)
                counts[(cluster, node.state)] = counts.get((cluster, node.state), 0) + 1
                up.add_metric([cluster, node.name], 1.0 if node.state == "Online" else 0.0)
                a = heartbeat_age(node)
                if a is not None:
                    age.add_metric([cluster, node.name], a)
            for cluster in names.values():
                for state in NODE_STATES:
                    nodes_g.add_metric([cluster, state], counts.get((cluster, state), 0))
            for kind, phase, n in session.exec(select(Task.kind, Task.phase, func.count()).group_by(Task.kind, Task.phase)):
                tasks_g.add_metric([kind, phase], n)
            volumes_g, bricks_g, durations = self._volumes_and_durations(session, names)
        yield from (nodes_g, up, age, tasks_g, volumes_g, bricks_g, durations)

    def _volumes_and_durations(self, session: Session, names: dict[str, str]):
        volumes_g = GaugeMetricFamily("kadalu_volumes", "Volumes by state and health", labels=["cluster", "state", "health"])
        bricks_g = GaugeMetricFamily("kadalu_bricks", "Bricks by online status", labels=["cluster", "online"])
        durations = SummaryMetricFamily("kadalu_task_duration_seconds", "From queued to finished, by kind", labels=["kind"])
        node_states = dict(session.exec(select(Node.id, Node.state)).all())
        bricks_by_volume: dict[str, list[Brick]] = {}
        for b in session.exec(select(Brick).order_by(Brick.idx)):
            bricks_by_volume.setdefault(b.volume_id, []).append(b)
        counts: dict[tuple[str, str, str], int] = {}
        online: dict[tuple[str, str], int] = {}
        for v in session.exec(select(Volume)):
            cluster = names.get(v.cluster_id, v.cluster_id)
            bricks = bricks_by_volume.get(v.id, [])
            key = (cluster, v.state, volume_health.health(v, bricks, node_states) or "none")
            counts[key] = counts.get(key, 0) + 1
            for b in bricks:
                k = (cluster, "1" if volume_health.brick_is_online(b, node_states) else "0")
                online[k] = online.get(k, 0) + 1
        for key, n in counts.items():
            volumes_g.add_metric(list(key), n)
        for key, n in online.items():
            bricks_g.add_metric(list(key), n)
        totals: dict[str, list[float]] = {}
        finished = select(Task.kind, Task.created_at, Task.finished_at).where(Task.finished_at.is_not(None))
        for kind, created, done in session.exec(finished):
            t = totals.setdefault(kind, [0, 0.0])
            t[0] += 1
            t[1] += (done - created).total_seconds()
        for kind, (count, total) in totals.items():
            durations.add_metric([kind], count_value=count, sum_value=total)
        return volumes_g, bricks_g, durations


class Metrics:
    def __init__(self, engine: Engine):
        self.registry = CollectorRegistry()
        self.registry.register(StateCollector(engine))
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
