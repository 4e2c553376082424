"""This replica's metrics, in the Prometheus text format (`GET /metrics`, docs/operations.md).

Each app has its own registry, never the client library's global one: replicas each expose their
own figures, and a test process that starts many apps keeps each one's apart. Counters and
histograms are moved by the shells where the thing happens (the store's commit hook, the ingest
routes, the alert scheduler, the reject store); what is a state rather than a count (panels open,
each feed's last event, the live view's gap fills) is read from the services when Prometheus
scrapes, so the hot paths pay nothing for it.

Labels stay bounded whatever a sender posts: agencies are those of committed events (a token may
only post for its own agencies), sources and alert names are closed sets of the contract and the
profiles, statuses are the few a refusal can have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from contract.event import Event
from contract.kinds import ALERTS
from service.clock import Clock

# POST to commit: a group commit on a healthy disk is a few milliseconds; seconds is trouble.
INGEST_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Fired minus deadline: the scheduler wakes within milliseconds; an alert a second late is
# already late for a telecommunicator waiting on it, and one after a restart may be minutes late.
LATENESS_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)
# Every status a kept refusal can have, and 500 for an ingest that failed: at zero from the start,
# so a rate over them is defined before the first one.
STATUSES: Final = ("401", "403", "404", "409", "413", "415", "422", "500")


class Metrics:
    """The registry of one app and the metrics the shells move."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_ingested = Counter(
            "tcpr_events_ingested",
            "Events this replica committed to the log (duplicates not counted).",
            ["agency", "source"],
            registry=self.registry,
        )
        self.ingest_seconds = Histogram(
            "tcpr_ingest_seconds",
            "Event and EIDO posts: from the request to its events committed.",
            buckets=INGEST_BUCKETS,
            registry=self.registry,
        )
        self.alerts_fired = Counter(
            "tcpr_alerts_fired",
            "Alerts this replica recorded (each alert counts once across replicas).",
            ["alert"],
            registry=self.registry,
        )
        self.alert_lateness = Histogram(
            "tcpr_alert_lateness_seconds",
            "An alert's recording time minus its deadline.",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.rejects = Counter(
            "tcpr_rejects",
            "Posted input refused (kept in the reject store) or failed (500), by HTTP status.",
            ["status"],
            registry=self.registry,
        )
        self._ingested: dict[tuple[str, str], Counter] = {}
        for alert in ALERTS:
            self.alerts_fired.labels(alert)
        for status in STATUSES:
            self.rejects.labels(status)

    # -- moved by the shells -----------------------------------------------------------------
    def committed(self, events: Iterable[Event]) -> None:
        """A commit's new events, counted per (agency, source): one increment per pair. On the
        write path, so plain loops and the labelled children kept (a `Counter` of the standard
        library and `labels()` each cost more than the rest together)."""
        counts: dict[tuple[str, str], int] = {}
        for e in events:
            key = (e.agency, e.source)
            counts[key] = counts.get(key, 0) + 1
        for key, n in counts.items():
            child = self._ingested.get(key)
            if child is None:
                child = self._ingested[key] = self.events_ingested.labels(*key)
            child.inc(n)

    def ingested(self, seconds: float) -> None:
        self.ingest_seconds.observe(seconds)

    def alert_fired(self, alert: str, lateness_s: float) -> None:
        self.alerts_fired.labels(alert).inc()
        self.alert_lateness.observe(max(0.0, lateness_s))

    def refused(self, status: int) -> None:
        self.rejects.labels(str(status)).inc()

    # -- read at scrape time -----------------------------------------------------------------
    def watch(self, live: LiveState) -> Callable[[], None]:
        """Report the live state at each scrape; returns what stops it (the app's shutdown)."""
        collector = _LiveCollector(live)
        self.registry.register(collector)
        return lambda: self.registry.unregister(collector)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The figures and their media type: the Prometheus text format, or OpenMetrics
        where the scraper's Accept header prefers it (as Prometheus itself does)."""
        encode, media_type = choose_encoder(accept)
        return encode(self.registry), media_type


class Feeds(Protocol):
    """What the feed watch knows of each agency (service/feeds.py `AgencyFeeds`)."""

    @property
    def last_event_at(self) -> datetime | None: ...

    @property
    def silent(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class LiveState:
    """Where the scrape-time figures come from: each a function, so nothing is copied."""

    clock: Clock
    panels: Callable[[], int]
    gap_fills: Callable[[], int]
    live_calls: Callable[[], int]
    feeds: Callable[[], Iterable[tuple[str, Feeds]]]


class _LiveCollector(Collector):
    def __init__(self, live: LiveState) -> None:
        self._live = live

    def collect(self) -> Iterator[Metric]:
        live = self._live
        yield GaugeMetricFamily(
            "tcpr_panels_connected",
            "Panels (websockets) open on this replica.",
            value=live.panels(),
        )
        yield GaugeMetricFamily(
            "tcpr_live_calls", "Live calls in this replica's view.", value=live.live_calls()
        )
        yield CounterMetricFamily(
            "tcpr_broker_gap_fills",
            "Events the broker did not deliver that this replica read from the log instead.",
            value=live.gap_fills(),
        )
        age = GaugeMetricFamily(
            "tcpr_feed_last_event_age_seconds",
            "Seconds since each watched agency's CAD feed last delivered a recent event.",
            labels=["agency"],
        )
        silent = GaugeMetricFamily(
            "tcpr_feed_silent",
            "1 while the agency's panels show its CAD feed silent (no event nor heartbeat "
            "within its feed_silence_seconds), else 0.",
            labels=["agency"],
        )
        now = live.clock()
        for agency, feeds in sorted(live.feeds(), key=lambda item: item[0]):
            last = feeds.last_event_at
            if last is not None:
                age.add_metric([agency], max(0.0, (now - last).total_seconds()))
            silent.add_metric([agency], 1.0 if feeds.silent else 0.0)
        yield age
        yield silent
