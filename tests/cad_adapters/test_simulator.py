"""The call simulator (cad_adapters.simulator) and `tcpr simulate`: seeded, canonical, in time
order, and with the published programme figures it claims, measured by the service's own core."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cad_adapters.core import canonical
from cad_adapters.simulator import CAD_KINDS, simulate
from contract.event import Event
from contract.wire import CanonicalEvent
from service.qi.measures import measures, summarize
from service.replay import load_jsonl
from service.triage.call_state import CallState
from service.triage.profiles import AHA_2020, DEFAULT_CONFIG
from service.triage.state import fold

START = datetime(2026, 1, 15, 14, 0, tzinfo=timezone(timedelta(hours=-5)))


def _at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["at"])


def _states(records: list[dict[str, Any]]) -> list[CallState]:
    calls: dict[str, list[Event]] = defaultdict(list)
    for record in records:
        e = CanonicalEvent.model_validate(record).to_event()
        calls[e.call_id].append(e)
    return [fold(records[0]["agency"], c, es, DEFAULT_CONFIG) for c, es in calls.items()]


@pytest.fixture(scope="module")
def year() -> list[dict[str, Any]]:
    """2,000 simulated calls: enough for the medians and shares to settle."""
    return list(simulate(START, calls=2000, rate_per_hour=6))


# -- determinism and ids ----------------------------------------------------------------------


def test_the_same_seed_and_start_give_the_same_calls() -> None:
    first = list(simulate(START, calls=30))
    assert first == list(simulate(START, calls=30))
    assert first != list(simulate(START, calls=30, seed=1))


def test_ids_are_unique_within_a_run_and_never_reused_by_another_seed_or_start() -> None:
    records = list(simulate(START, calls=40))
    assert len({r["call_id"] for r in records}) == 40
    assert len({r["event_id"] for r in records}) == len(records)
    ids = {r["event_id"] for r in records}
    for other in (
        simulate(START, calls=40, seed=912),
        simulate(START + timedelta(seconds=1), calls=40),
        simulate(START + timedelta(microseconds=1), calls=40),
    ):
        others = list(other)
        assert ids.isdisjoint(r["event_id"] for r in others)
        assert {r["call_id"] for r in records}.isdisjoint(r["call_id"] for r in others)


# -- the records ------------------------------------------------------------------------------


@pytest.mark.parametrize("cad_only", [False, True], ids=["all", "cad-only"])
def test_records_are_canonical_and_in_time_order_across_calls(cad_only: bool) -> None:
    zone = timezone(timedelta(hours=2))
    records = list(simulate(START, calls=60, rate_per_hour=120, cad_only=cad_only, zone=zone))
    for record in records:
        assert canonical(record) is record
        assert _at(record).utcoffset() == timedelta(hours=2), record
    times = [_at(r) for r in records]
    assert times == sorted(times)
    # The calls overlap (one every 30 s on average, each lasting minutes): a merge, not a concat.
    assert [r["call_id"] for r in records] != sorted(r["call_id"] for r in records)


def test_cad_only_is_the_cad_part_of_the_same_calls() -> None:
    everything = list(simulate(START, calls=50))
    cad = list(simulate(START, calls=50, cad_only=True))
    assert {r["kind"] for r in cad} <= CAD_KINDS
    assert {r["kind"] for r in everything} - CAD_KINDS  # console and EMS events are there too
    assert cad == [r for r in everything if r["kind"] in CAD_KINDS]


def test_first_call_at_start_then_arrivals_at_the_rate() -> None:
    records = list(simulate(START, calls=2000, rate_per_hour=30, cad_only=True))
    t0s = [_at(r) for r in records if r["kind"] == "call.received"]
    assert len(t0s) == 2000 and t0s[0] == START
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(t0s)]
    assert 108 <= statistics.mean(gaps) <= 132  # 3600 / 30 = 120 s
    # Exponential gaps: the median is ln 2 of the mean, not the mean (evenly spaced would be).
    assert 0.6 <= statistics.median(gaps) / statistics.mean(gaps) <= 0.8


def test_refuses_a_start_without_offset_and_a_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="offset"):
        list(simulate(datetime(2026, 1, 15, 14), calls=1))
    with pytest.raises(ValueError, match="rate"):
        list(simulate(START, calls=1, rate_per_hour=0))
    with pytest.raises(ValueError):
        list(simulate(START, calls=-1))
    assert list(simulate(START, calls=0)) == []


# -- the figures ------------------------------------------------------------------------------


def test_figures_resemble_published_programme_results(year: list[dict[str, Any]]) -> None:
    """Loose bands around the module docstring's targets (Lewis 2013, AHA 2020)."""
    states = _states(year)
    assert len(states) == 2000
    m = measures([summarize(s) for s in states], AHA_2020)
    assert 0.7 <= m["population"] / 2000 <= 0.9  # arrests, attempted, not EMS-witnessed
    assert 70 <= m["recognition_rate"]["percent"] <= 90
    assert 60 <= m["median_seconds_to_recognition"]["value"] <= 80
    assert 120 <= m["median_seconds_to_first_compression"]["value"] <= 160
    assert m["over_triage"] > 0
    transferred = sum(s.transferred_at is not None for s in states) / len(states)
    assert 0.1 <= transferred <= 0.3
    # T-CPR not given in about one recognised call in ten, refusals among the reasons.
    exclusions = m["tcpr_exclusions"]
    assert 0.06 <= sum(exclusions.values()) / m["recognition_rate"]["numerator"] <= 0.18
    assert exclusions["caller_refused"] > 0 and exclusions["cpr_in_progress"] > 0
    # Recognised by the two questions mostly, some declared directly; the rest missed.
    paths = Counter(s.path for s in states)
    assert paths["question"] > paths["direct"] > 0
    missed = [s for s in states if not s.recognized]
    assert missed and all(s.breathing == "yes" for s in missed)


def test_every_simulated_record_is_canonical(year: list[dict[str, Any]]) -> None:
    for record in year:
        canonical(record)
    kinds = Counter(r["kind"] for r in year)
    assert kinds["call.received"] == kinds["ems.outcome"] == 2000
    assert "qi.review" not in kinds


# -- tcpr simulate ----------------------------------------------------------------------------


def _tcpr() -> list[str]:
    script = Path(sys.executable).with_name("tcpr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service.cli"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TCPR_")}


def test_cli_writes_json_lines_that_replay_loads(tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    args = ["simulate", "--calls", "5", "--seed", "7", "--start", START.isoformat()]
    done = subprocess.run(
        [*_tcpr(), *args, "--out", str(out)],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    expected = list(simulate(START, calls=5, seed=7, zone=START.tzinfo or UTC))
    assert load_jsonl(out) == expected
    assert len({r["call_id"] for r in expected}) == 5

    to_stdout = subprocess.run(
        [*_tcpr(), *args, "--cad-only"],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert to_stdout.returncode == 0, to_stdout.stderr
    lines = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert lines == [r for r in expected if r["kind"] in CAD_KINDS]


def test_cli_refuses_a_start_without_offset(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_tcpr(), "simulate", "--start", "2026-01-15T14:00:00"],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "offset" in done.stderr and done.stdout == ""


async def test_cli_plays_simulated_calls_into_a_service(server: Any, tmp_path: Path) -> None:
    token = await server.token("adapter", "SIM")
    start = datetime(2026, 1, 15, 19, 0, tzinfo=UTC)
    proc = await asyncio.create_subprocess_exec(
        *_tcpr(),
        "simulate",
        "--calls",
        "3",
        "--rate",
        "600",
        "--start",
        start.isoformat(),
        "--url",
        server.url,
        "--token",
        token,
        "--speed",
        "20000",
        env=_env(),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    expected = list(simulate(start, calls=3, rate_per_hour=600))
    assert json.loads(out) == {"sent": len(expected), "refused": 0}
    for call_id in {r["call_id"] for r in expected}:
        stored = await server.services.store.call_events("SIM", call_id)
        mine = [r for r in expected if r["call_id"] == call_id]
        assert sorted(e.event_id for e in stored) == sorted(r["event_id"] for r in mine)
        by_id = {e.event_id: e for e in stored}
        assert all(by_id[r["event_id"]].at == _at(r) for r in mine)
