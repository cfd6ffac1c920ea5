"""/metrics at scale: the state gauges written by controlplane/metrics_text.py say exactly what
prometheus_client's rendering of the same collector says, and a scrape answers from a snapshot that
is refreshed in the background once it is older than KADALU_METRICS_CACHE_SECONDS."""
import time
from types import SimpleNamespace

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controlplane import metrics_text
from controlplane.metrics import Metrics
from controlplane.metrics_text import Gauge, render
from tests import prom_samples
from tests.api.test_health_alerts import GiB, beat, evaluate, started_volume

LIVE = ("kadalu_api_request", "kadalu_metrics_state_age_seconds", "kadalu_node_heartbeat_age")  # change with time


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return prom_samples.samples(text, skip=LIVE)


def ages_of(text: str) -> dict[frozenset, float]:
    return {frozenset(s.labels.items()): s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "kadalu_node_heartbeat_age_seconds"}


def helps(text: str) -> dict[str, tuple[str, str]]:
    return {f.name: (f.documentation, f.type) for f in text_string_to_metric_families(text) if not f.name.startswith(LIVE)}


def test_the_fast_rendering_says_what_prometheus_client_says(client, admin, nodes):
    started_volume(client, admin)
    beat(client, "n2", {"/e/b2": (False, 100 * GiB, 50 * GiB, 7)})
    beat(client, "n1", {"/e/b1": (True, 80 * GiB, 30 * GiB, 0)}, device_free=40 * GiB)
    evaluate(client)
    metrics = Metrics(client.app.state.engine)
    fast = metrics.render().decode()
    straightforward = generate_latest(metrics.registry).decode()
    assert samples(fast) == samples(straightforward)
    ages = [ages_of(fast), ages_of(straightforward)]
    assert ages[0].keys() == ages[1].keys() and len(ages[0]) == 4
    assert all(abs(ages[0][k] - ages[1][k]) < 60 for k in ages[0])
    assert helps(fast) == helps(straightforward)
    assert len(samples(fast)) > 40 and ("kadalu_brick_heal_pending", frozenset(
        {"cluster": "c1", "volume": "v1", "node": "n2", "brick": "/e/b2"}.items())) in samples(fast)


def test_label_values_and_help_are_escaped_as_prometheus_client_escapes_them():
    odd = Gauge("kadalu_test", 'help with \\ and\na "quote"', ["a", "b"])
    for values, value in ((['back\\slash', 'new\nline'], 1.5), (['"quoted"', ""], 2), (["plain", "x"], float("inf")),
                          (["big", "y"], 1 << 50), (["nan", "z"], float("nan"))):
        odd.add_metric(values, value)
    bare = Gauge("kadalu_bare", "no labels")
    bare.add_metric([], 0.25)
    fast = render([odd, bare]).decode()
    from prometheus_client import CollectorRegistry

    class Both:
        def collect(self):
            return [odd.to_prometheus(), bare.to_prometheus()]
    registry = CollectorRegistry()
    registry.register(Both())
    straightforward = generate_latest(registry).decode()
    parsed = [(s.name, s.labels, str(float(s.value))) for f in text_string_to_metric_families(fast) for s in f.samples]
    assert parsed == [(s.name, s.labels, str(float(s.value))) for f in text_string_to_metric_families(straightforward)
                      for s in f.samples]
    assert ("kadalu_test", {"a": "back\\slash", "b": "new\nline"}, "1.5") in parsed


def _brick_online(text: str) -> float:
    labels = frozenset({"cluster": "c1", "volume": "v1", "node": "n2", "brick": "/e/b2"}.items())
    return samples(text)[("kadalu_brick_online", labels)]


def _age(text: str) -> float:
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "kadalu_metrics_state_age_seconds")


def test_a_scrape_answers_from_the_snapshot_and_a_stale_one_is_refreshed_behind_it(client, admin, nodes, monkeypatch):
    started_volume(client, admin)
    metrics = Metrics(client.app.state.engine, cache_seconds=600)
    assert _brick_online(metrics.render().decode()) == 1  # the first scrape reads the state itself
    beat(client, "n2", {"/e/b2": (False, 100 * GiB, 50 * GiB, 0)})
    assert _brick_online(metrics.render().decode()) == 1, "a fresh snapshot is served as it is"
    taken, text, live = metrics._snapshot or (0.0, b"", [])
    metrics._snapshot = (taken - 601, text, live)  # the snapshot has grown older than cache_seconds
    stale = metrics.render().decode()
    assert _brick_online(stale) == 1 and _age(stale) > 600, "a stale snapshot is still answered, with its age"
    with metrics._refreshing:  # the background refresh it started has finished
        pass
    fresh = metrics.render().decode()
    assert _brick_online(fresh) == 0 and _age(fresh) < 600
    beat(client, "n3")
    before = ages_of(fresh)
    now = time.time()
    monkeypatch.setattr(metrics_text, "time", SimpleNamespace(time=lambda: now + 30))  # a scrape 30 s later
    later = ages_of(metrics.render().decode())
    n3 = frozenset({"cluster": "c1", "node": "n3"}.items())
    assert later[n3] >= before[n3] + 29, "heartbeat ages grow with the scrape's time even while the snapshot is reused"
    metrics._snapshot = (time.monotonic() - metrics.stale_seconds - 1, text, live)  # too old to answer with at all
    assert _brick_online(metrics.render().decode()) == 0
