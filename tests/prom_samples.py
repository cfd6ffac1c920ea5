"""Samples of a Prometheus text exposition, keyed by (name, labels): compared as numbers, so a test
does not depend on how a value is written (10485760 or 1.048576e+07)."""
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, skip: tuple[str, ...] = ()) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if not (skip and s.name.startswith(skip))}


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))
