"""deploy/'s monitoring stays true: the Prometheus configuration, its alert rules and the Grafana
dashboard parse, fit the compose example (targets, mounts, the address allowed to scrape), and
every metric they name is one a running service exposes."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from support.harness import Server, at, event, service_settings, start_server
from support.paths import REPO

DEPLOY = REPO / "deploy"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def load(path: str) -> Any:
    text = (DEPLOY / path).read_text()
    return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)


def rules() -> list[dict[str, Any]]:
    return [rule for group in load("prometheus/alerts.yml")["groups"] for rule in group["rules"]]


def dashboard_exprs() -> Iterator[str]:
    for panel in load("grafana/dashboards/tcpr-assist.json")["panels"]:
        for target in panel["targets"]:
            yield target["expr"]


def named(expr: str) -> set[str]:
    """The metric names an expression reads (not its functions, labels or keywords)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_groupings = re.sub(r"\b(by|without)\s*\([^)]*\)", "", without_labels)
    return set(re.findall(r"\b(tcpr_[a-z_]+|up)\b", without_groupings))


@pytest.fixture
async def scraped(tmp_path: Path) -> AsyncIterator[set[str]]:
    """Every sample name a fresh service can expose (a counter's `_total`, a histogram's
    `_bucket`, `_count` and `_sum`), from a scrape after one event and one refusal."""
    server: Server = await start_server(service_settings(f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    try:
        async with await server.client() as client:
            await client.post("/api/v1/events", json=event("d1", "call.received", at(5)))
            await client.post("/api/v1/events", json=event("d2", "call.bogus", at(5)))
            text = (await client.get("/metrics")).text
    finally:
        await server.stop()
    yield {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in SUFFIXES[family.type]
    }


def test_the_files_parse_and_every_rule_says_what_to_do() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), names
    for wanted in ("TcprReplicaDown", "TcprFeedSilent", "TcprIngestFailing", "TcprAlertsLate"):
        assert wanted in names
    for rule in rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
    replica_down = next(r for r in rules() if r["alert"] == "TcprReplicaDown")
    assert replica_down["expr"] == 'up{job="tcpr"} == 0'
    dashboard = load("grafana/dashboards/tcpr-assist.json")
    assert dashboard["uid"] == "tcpr-assist" and dashboard["panels"]
    datasource = load("grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]


async def test_every_metric_the_rules_and_the_dashboard_read_is_exposed(
    scraped: set[str],
) -> None:
    exposed = scraped | {"up"}  # Prometheus's own, per target
    read = {
        f"{where}: {name}"
        for where, exprs in [
            ("alerts.yml", [rule["expr"] for rule in rules()]),
            ("tcpr-assist.json", list(dashboard_exprs())),
        ]
        for expr in exprs
        for name in named(expr)
    }
    assert read, "no metric names found: the parsing of expressions broke"
    missing = sorted(r for r in read if r.split(": ")[1] not in exposed)
    assert not missing, f"named but not exposed by the service: {missing}"
    # Every metric the issue asks for is used by a rule or a panel.
    used = {r.split(": ")[1] for r in read}
    for family in (
        "tcpr_events_ingested_total",
        "tcpr_ingest_seconds_bucket",
        "tcpr_alerts_fired_total",
        "tcpr_alert_lateness_seconds_bucket",
        "tcpr_panels_connected",
        "tcpr_rejects_total",
        "tcpr_broker_gap_fills_total",
        "tcpr_feed_last_event_age_seconds",
    ):
        assert family in used, family


def test_prometheus_scrapes_each_replica_from_the_address_they_allow() -> None:
    compose = load("compose.yaml")
    services = compose["services"]
    replicas = sorted(
        name for name, s in services.items() if "tcpr serve" in " ".join(s.get("command", []))
    )
    assert replicas == ["tcpr-1", "tcpr-2"]
    config = load("prometheus/prometheus.yml")
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "tcpr" and job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [f"{r}:8000" for r in replicas]

    prometheus = services["prometheus"]
    address = ip_address(prometheus["networks"]["default"]["ipv4_address"])
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert address in ip_network(subnet)
    for replica in replicas:
        allow = services[replica]["environment"]["TCPR_METRICS_ALLOW"]
        assert [ip_address(a.strip()) for a in allow.split(",")] == [address]

    mounts = dict(v.rsplit(":", 2)[:2] for v in prometheus["volumes"] if v.startswith("./"))
    assert mounts["./prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert mounts["./prometheus/alerts.yml"] in config["rule_files"]
    grafana = dict(
        v.rsplit(":", 2)[:2] for v in services["grafana"]["volumes"] if v.startswith("./")
    )
    provider = load("grafana/provisioning/dashboards/tcpr.yml")["providers"][0]
    assert grafana["./grafana/dashboards"] == provider["options"]["path"]
    assert grafana["./grafana/provisioning"] == "/etc/grafana/provisioning"
    # Only loopback of the host reaches Prometheus and Grafana.
    for name in ("prometheus", "grafana"):
        assert all(p.startswith("127.0.0.1:") for p in services[name]["ports"]), name


def test_the_balancer_never_routes_metrics() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"location \^~ /metrics \{\s*return 404;\s*\}", nginx)
    # The client's address is the balancer's peer, never what the client wrote in the header.
    assert "$proxy_add_x_forwarded_for" not in nginx
    assert nginx.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
