"""Reading a `/metrics` scrape in tests: every sample of the exposition by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples_of(exposition: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by its name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 where the scrape has none (a counter not yet moved)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
