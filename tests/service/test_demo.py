"""Recorded feeds (service.replay) and the demo `tcpr serve --demo` plays (service.demo)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support.harness import event, service_settings, start_server

import service.demo as demo
from contract.event import Event
from contract.wire import CanonicalEvent
from service.demo.history import history
from service.qi.audit import draft
from service.qi.measures import measures, summarize
from service.replay import Record, RecordingError, gap_seconds, load_jsonl, play, retime
from service.serialise import audit_json
from service.triage.call_state import CallState
from service.triage.profiles import AHA_2020, DEFAULT_CONFIG
from service.triage.state import fold

# -- load_jsonl -------------------------------------------------------------------------------


def test_load_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    a = event("e1", "call.received", "2026-01-15T14:00:00-05:00")
    b = event("e2", "call.ended", "2026-01-15T14:01:00-05:00")
    path.write_text(f"{json.dumps(a)}\n\n   \n{json.dumps(b)}\n", encoding="utf-8")
    assert load_jsonl(path) == [a, b]


@pytest.mark.parametrize(
    "bad",
    ["{not json", "[1, 2]", '{"event_id": "e2"}', '{"event_id": "e2", "at": 5}'],
    ids=["not-json", "not-object", "no-at", "at-not-string"],
)
def test_load_jsonl_names_file_and_line_of_a_bad_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "rec.jsonl"
    good = json.dumps(event("e1", "call.received", "2026-01-15T14:00:00-05:00"))
    path.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
    with pytest.raises(RecordingError) as info:
        load_jsonl(path)
    assert f"{path}:3" in str(info.value)


# -- retime -----------------------------------------------------------------------------------


def _records() -> list[Record]:
    # Out of file order on purpose, and with different UTC offsets.
    return [
        event("e2", "call.answered", "2026-01-15T14:00:05-05:00", "C1"),
        event("e1", "call.received", "2026-01-15T14:00:00-05:00", "C1"),
        event("e3", "call.received", "2026-01-15T20:00:40+01:00", "C2"),
    ]


def test_retime_moves_the_first_event_to_start_keeping_offsets_and_gaps() -> None:
    records = _records()
    original = json.loads(json.dumps(records))
    start = datetime(2031, 6, 1, 12, 0, 0, tzinfo=UTC)
    moved = retime(records, start, "-x1")

    assert records == original  # the input is left alone
    times = {
        r["event_id"]: datetime.fromisoformat(m["at"]) for r, m in zip(records, moved, strict=True)
    }
    assert min(times.values()) == start
    assert times["e1"] == start
    # Each event keeps its own UTC offset ...
    assert times["e1"].utcoffset() == timedelta(hours=-5)
    assert times["e2"].utcoffset() == timedelta(hours=-5)
    assert times["e3"].utcoffset() == timedelta(hours=1)
    # ... and its gap to the others.
    assert times["e2"] - times["e1"] == timedelta(seconds=5)
    assert times["e3"] - times["e1"] == timedelta(seconds=40)
    assert gap_seconds(moved) == gap_seconds(records) == 40.0
    # Ids are suffixed, so the recording can play again as new calls; the rest is unchanged.
    assert [r["event_id"] for r in moved] == ["e2-x1", "e1-x1", "e3-x1"]
    assert [r["call_id"] for r in moved] == ["C1-x1", "C1-x1", "C2-x1"]
    for before, after in zip(records, moved, strict=True):
        rest = {k: v for k, v in before.items() if k not in ("at", "event_id", "call_id")}
        assert {k: after[k] for k in rest} == rest
        CanonicalEvent.model_validate(after)  # still a canonical event


def test_retime_without_suffix_keeps_ids() -> None:
    moved = retime(_records(), datetime(2031, 6, 1, tzinfo=UTC))
    assert [r["event_id"] for r in moved] == ["e2", "e1", "e3"]
    assert [r["call_id"] for r in moved] == ["C1", "C1", "C2"]
    assert retime([], datetime(2031, 6, 1, tzinfo=UTC), "-x") == []


# -- play -------------------------------------------------------------------------------------


async def test_play_sends_same_time_events_together_in_order_keeping_gaps() -> None:
    base = datetime.fromisoformat("2026-01-15T14:00:00-05:00")

    def rec(event_id: str, seconds: float, offset_hours: int = -5) -> Record:
        when = base + timedelta(seconds=seconds)
        zone = timezone(timedelta(hours=offset_hours))
        return event(event_id, "call.answered", when.astimezone(zone).isoformat())

    # Same instant written with two offsets still counts as the same time.
    records = [
        rec("d", 100),
        rec("b", 30),
        rec("a1", 0),
        rec("c", 30, offset_hours=2),
        rec("a2", 0),
    ]
    speed = 1000.0
    loop = asyncio.get_running_loop()
    batches: list[tuple[float, list[str]]] = []

    async def send(batch: list[Record]) -> None:
        batches.append((loop.time(), [r["event_id"] for r in batch]))

    began = loop.time()
    async with asyncio.timeout(5):  # the gaps are divided by the speed, not waited in full
        sent = await play(records, send, speed)

    assert sent == 5
    assert [sorted(ids) for _, ids in batches] == [["a1", "a2"], ["b", "c"], ["d"]]
    offsets = [t - began for t, _ in batches]
    resolution = 0.005  # asyncio may wake up to a clock tick early
    # Each batch leaves no earlier than its place in the recording (the schedule is kept from
    # the start, so a batch sent late under load does not push the ones after it back).
    for offset, recorded in zip(offsets, [0.0, 30.0, 100.0], strict=True):
        assert offset >= recorded / speed - resolution, offsets


async def test_play_edge_cases() -> None:
    async def send(batch: list[Record]) -> None:
        raise AssertionError("nothing to send")

    assert await play([], send) == 0
    with pytest.raises(ValueError):
        await play([event("e", "call.ended", "2026-01-15T14:00:00Z")], send, 0)


# -- the shipped recording --------------------------------------------------------------------


def _demo_calls() -> dict[str, list[Event]]:
    by_call: dict[str, list[Event]] = defaultdict(list)
    for r in load_jsonl(demo.RECORDING):
        e = CanonicalEvent.model_validate(r).to_event()
        by_call[e.call_id].append(e)
    return by_call


def _audit(calls: dict[str, list[Event]], call_id: str) -> tuple[CallState, dict[str, Any]]:
    state = fold(demo.DEMO_AGENCY, call_id, calls[call_id], DEFAULT_CONFIG)
    return state, audit_json(draft(state, AHA_2020))


def test_demo_recording_is_valid_canonical_events_of_the_demo_agency() -> None:
    records = load_jsonl(demo.RECORDING)
    ids = [r["event_id"] for r in records]
    assert len(ids) == len(set(ids))
    for r in records:
        e = CanonicalEvent.model_validate(r).to_event()
        assert e.agency == demo.DEMO_AGENCY
        assert e.at.utcoffset() is not None
    assert sorted(_demo_calls()) == [f"DEMO-100{i}" for i in range(1, 6)]
    assert gap_seconds(records) == 300.0


def test_demo_1001_recognised_fast_both_benchmarks_met() -> None:
    _, audit = _audit(_demo_calls(), "DEMO-1001")
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "question"
    assert audit["intervals"]["to_recognition"] == 48.0
    assert audit["intervals"]["to_first_compression"] == 95.0
    assert audit["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
    assert audit["live"] is False


def test_demo_1002_recognised_late_both_benchmarks_missed() -> None:
    _, audit = _audit(_demo_calls(), "DEMO-1002")
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "question"
    assert audit["intervals"]["to_recognition"] == 128.0
    assert audit["intervals"]["to_first_compression"] == 175.0
    assert audit["benchmarks"] == {"recognition_met": False, "first_compression_met": False}


def test_demo_1003_not_recognised_ruled_out_after_verifying_the_breathing() -> None:
    state, audit = _audit(_demo_calls(), "DEMO-1003")
    assert audit["recognized"] is False
    assert audit["recognition_path"] is None
    # Not awake, "yes, breathing": verified by the caller's description, then ruled out.
    assert state.ruled_out is True and state.verify_breathing is False
    assert audit["answers"] == {
        "conscious": "no",
        "breathing": "yes",
        "breathing_confirmed": True,
        "breathing_agonal": False,
    }
    assert audit["benchmarks"] == {"recognition_met": None, "first_compression_met": None}
    assert audit["live"] is False


def test_demo_1004_recognised_by_nature_code_tcpr_refused() -> None:
    _, audit = _audit(_demo_calls(), "DEMO-1004")
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "nature_code"
    assert audit["intervals"]["to_recognition"] == 55.0
    assert audit["benchmarks"]["recognition_met"] is True
    assert audit["tcpr"]["not_given_reason"] == "caller_refused"
    assert audit["tcpr"]["first_compression"] is False


def test_demo_1005_ends_like_a_real_call() -> None:
    """An awake chest-pain patient: out of the arrest script, ended when the crew arrives, so
    the demo's board does not collect stale live calls loop after loop."""
    state, audit = _audit(_demo_calls(), "DEMO-1005")
    assert state.ruled_out is True
    assert state.ended_at is not None and audit["live"] is False
    assert audit["units"] == ["M9"]
    # Every demo call ends: nothing is left for the live-call limit to sweep.
    assert all(s.ended_at is not None for s, _ in (_audit(_demo_calls(), c) for c in _demo_calls()))


# -- the demo feed ----------------------------------------------------------------------------

SUFFIXED_1001 = re.compile(r"^DEMO-1001-\d{12}$")


async def test_demo_server_plays_suffixed_calls_at_once(sqlite_url: str) -> None:
    running = await start_server(service_settings(sqlite_url), demo=True)
    try:
        store = running.services.store
        found: list[Event] = []
        async with asyncio.timeout(3):
            while not found:
                found = [e for e in await store.events_since(0) if e.call_id.startswith("DEMO-")]
                if not found:
                    await asyncio.sleep(0.05)
        first = found[0]
        assert first.agency == "DEMO"
        assert SUFFIXED_1001.match(first.call_id), first.call_id
        assert first.kind == "call.received"
        suffix = first.call_id.removeprefix("DEMO-1001")
        assert first.event_id == f"demo-1001-01{suffix}"
        # Re-timed to now, keeping the recording's own UTC offset.
        assert abs(datetime.now(UTC) - first.at) < timedelta(seconds=30)
        assert first.at.utcoffset() == timedelta(hours=-5)
        # The live view shows it as a live call.
        deadline = asyncio.get_running_loop().time() + 3
        while ("DEMO", first.call_id) not in running.services.live.calls:
            assert asyncio.get_running_loop().time() < deadline, running.services.live.calls
            await asyncio.sleep(0.05)
    finally:
        await running.stop()


class _CollectingStore:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []
        self.two_loops = asyncio.Event()

    async def append(self, events: list[Event]) -> None:
        self.batches.append(list(events))
        if len(self.batches) >= 2:
            self.two_loops.set()


async def test_each_demo_loop_makes_new_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mini.jsonl"
    path.write_text(
        json.dumps(event("m-1", "call.received", "2026-01-15T14:00:00-05:00", "DEMO-1001", "DEMO"))
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(demo, "PAUSE_BETWEEN_LOOPS_S", 1.0)
    store = _CollectingStore()
    task = asyncio.create_task(demo.play_demo(store, path))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(5):
            await store.two_loops.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    first, second = store.batches[0][0], store.batches[1][0]
    assert SUFFIXED_1001.match(first.call_id) and SUFFIXED_1001.match(second.call_id)
    assert first.call_id != second.call_id
    assert first.event_id != second.event_id
    assert second.at - first.at >= timedelta(seconds=1)


# -- the demo's past calls (service.demo.history) ---------------------------------------------


def _history_states(end: datetime) -> dict[str, CallState]:
    calls: dict[str, list[Event]] = defaultdict(list)
    for record in history(end):
        e = CanonicalEvent.model_validate(record).to_event()
        assert e.agency == "DEMO" and e.at < end + timedelta(days=4), record
        calls[e.call_id].append(e)
    return {c: fold("DEMO", c, es, DEFAULT_CONFIG) for c, es in calls.items()}


def test_history_is_seeded_and_repeatable() -> None:
    end = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert list(history(end)) == list(history(end))
    assert list(history(end)) != list(history(end, seed=1))
    # Another day's history never reuses this one's ids (a re-seed would be refused as 409).
    ids = {r["event_id"] for r in history(end)}
    assert ids.isdisjoint(r["event_id"] for r in history(end + timedelta(days=1)))


def test_history_resembles_published_programme_figures() -> None:
    """Loose bands, not exact values: the demo should look like a real centre's year."""
    end = datetime(2026, 11, 23, 12, tzinfo=UTC)
    states = _history_states(end)
    m = measures([summarize(s) for s in states.values()], AHA_2020)
    assert m["calls_in_period"] == 12 * 22
    assert 0.6 < m["population"] / m["calls_in_period"] < 0.95
    assert 70 <= m["recognition_rate"]["percent"] <= 95
    assert 55 <= m["median_seconds_to_recognition"]["value"] <= 90
    assert 110 <= m["median_seconds_to_first_compression"]["value"] <= 170
    assert m["over_triage"] > 0 and m["tcpr_exclusions"]
    # About 85 % of calls older than a week are signed off: the reviewed figures have data.
    assert 65 <= m["reviewed"]["coverage"]["percent"] <= 95
    assert m["reviewed"]["reasons"]["nonrecognition"]
    # The equity breakdowns have something to show: every population call has sex, age group,
    # race and area, and both sexes are large enough not to be suppressed.
    summaries = [summarize(s) for s in states.values()]
    population = [s for s in summaries if s.in_population]
    assert all(s.sex and s.age_group and s.race and s.area for s in population)
    by_sex = Counter(s.sex for s in population)
    assert set(by_sex) == {"female", "male"} and min(by_sex.values()) > 10
    # Every recognition by question or code, T0 first, the last week still unreviewed.
    paths = Counter(s.path for s in states.values() if s.recognized)
    assert set(paths) <= {"question", "nature_code"} and paths["question"] > 0
    recent = [s for s in states.values() if s.t0 and s.t0 > end - timedelta(days=7)]
    assert recent and all(s.review is None for s in recent)
    assert all(s.t0 == s.received_at for s in states.values())


async def test_seed_history_once_into_an_empty_demo_agency(sqlite_url: str) -> None:
    running = await start_server(service_settings(sqlite_url))
    try:
        store = running.services.store
        now = datetime.now(UTC)
        stored = await demo.seed_history(store, now)
        assert stored > 1000
        year = await store.summaries("DEMO", now - timedelta(days=400), now)
        assert len(year) == 12 * 22
        assert await demo.seed_history(store, now + timedelta(days=2)) == 0  # already has a past
        assert len(await store.summaries("DEMO", None, None)) == 12 * 22
    finally:
        await running.stop()
