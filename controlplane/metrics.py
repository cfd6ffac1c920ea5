"""Every Prometheus collector in one place. State gauges are read from the database at scrape
time, so any API replica reports the same numbers as the workers that changed them."""
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from controlplane.models import Cluster, Node, Task
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
        yield from (nodes_g, up, age, tasks_g)


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
