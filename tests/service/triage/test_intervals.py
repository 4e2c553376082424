"""DESIGN.md §4: intervals from T0 on instants, QI corrections, strictly-below benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.timeline import CEST, EST, IST, NST, UTC

from service.qi.audit import draft
from service.serialise import audit_json, benchmarks_json
from service.triage.intervals import INTERVALS, benchmarks, dispatch_met, intervals
from service.triage.profiles import AHA_2020, PROFILES, RA_LEGACY, profile_named

SIX = {
    "to_answer",
    "to_recognition",
    "to_dispatch",
    "to_tcpr_start",
    "to_first_compression",
    "to_on_scene",
}


def test_interval_names_are_the_contract_six():
    assert set(INTERVALS) == SIX


def test_intervals_mixing_offsets_are_computed_on_instants(tl):
    # T0 = 10:00:00-05:00. Every later event is written in a different offset.
    tl.received(0, tz=EST)
    tl.answered(7, tz=CEST)  # 17:00:07+02:00
    tl.nature(11, "26-A-01", tz=IST)
    tl.conscious(19, "no", tz=NST)
    tl.breathing(52.5, "no", tz=UTC)  # 15:00:52.5Z
    tl.dispatched(45, tz=CEST)
    tl.tcpr_started(70, tz=IST)
    tl.first_compression(118.25, tz=NST)
    tl.on_scene(431, tz=UTC)
    s = tl.fold()
    assert intervals(s) == {
        "to_answer": 7.0,
        "to_recognition": 52.5,
        "to_dispatch": 45.0,
        "to_tcpr_start": 70.0,
        "to_first_compression": 118.25,
        "to_on_scene": 431.0,
    }


def test_interval_across_calendar_days_and_offsets(timeline):
    # T0 23:59:30-05:00 on Mar 1 == 04:59:30Z on Mar 2
    tl = timeline(ref=datetime(2024, 3, 1, 23, 59, 30, tzinfo=EST))
    tl.received(0)
    tl.recognized(datetime(2024, 3, 2, 6, 59, 30, tzinfo=CEST))  # the same instant as T0
    tl.first_compression(datetime(2024, 3, 2, 7, 1, 10, tzinfo=CEST))  # T0 + 100 s
    tl.on_scene(datetime(2024, 3, 2, 10, 36, 40, tzinfo=IST))  # 05:06:40Z == T0 + 430 s
    iv = intervals(tl.fold())
    assert iv["to_recognition"] == 0.0
    assert iv["to_first_compression"] == 100.0
    assert iv["to_on_scene"] == 430.0


def test_first_occurrence_is_used(tl):
    tl.received(0)
    tl.dispatched(50, unit="M2")
    tl.dispatched(40, unit="M1", tz=CEST)
    tl.on_scene(500)
    tl.on_scene(480, tz=IST)
    s = tl.fold()
    iv = intervals(s)
    assert iv["to_dispatch"] == 40.0
    assert iv["to_on_scene"] == 480.0
    assert s.units == ("M1", "M2")


def test_missing_moments_are_none(tl):
    tl.received(0)
    tl.answered(4)
    iv = intervals(tl.fold())
    assert iv == {
        "to_answer": 4.0,
        "to_recognition": None,
        "to_dispatch": None,
        "to_tcpr_start": None,
        "to_first_compression": None,
        "to_on_scene": None,
    }


# -- corrections -------------------------------------------------------------------------------


def test_call_received_correction_moves_t0_and_keeps_original(tl):
    tl.received(0, tz=EST)
    tl.answered(20)
    tl.recognized(80)
    tl.first_compression(140)
    # reviewer: from the recording the call connected 15 s earlier (written in +02:00)
    tl.review(3600, corrections={"call.received": "2024-03-01T16:59:45+02:00"})
    s = tl.fold()
    assert s.t0 == tl.t(-15)
    assert s.received_at == tl.t(0)
    iv = intervals(s)
    assert iv["to_answer"] == 35.0
    assert iv["to_recognition"] == 95.0
    assert iv["to_first_compression"] == 155.0
    assert benchmarks_json(benchmarks(s, AHA_2020)) == {
        "recognition_met": False,
        "first_compression_met": False,
    }
    d = audit_json(draft(s, AHA_2020))
    assert datetime.fromisoformat(d["t0"]) == tl.t(-15)
    assert datetime.fromisoformat(d["original_times"]["call.received"]) == tl.t(0)
    assert d["intervals"]["to_recognition"] == 95.0
    assert d["benchmarks"]["recognition_met"] is False


@pytest.mark.parametrize(
    ("build", "original_path"),
    [
        (lambda tl: (tl.conscious(40, "no"), tl.breathing(100, "no")), "question"),
        (lambda tl: tl.recognized(100), "direct"),
        (lambda tl: tl.nature(100, "09-E-01"), "nature_code"),
    ],
)
def test_recognition_correction_wins_whatever_the_path(tl, build, original_path):
    tl.received(0)
    build(tl)
    before = tl.fold()
    assert before.path == original_path
    assert intervals(before)["to_recognition"] == 100.0
    assert benchmarks(before, AHA_2020).recognition_met is False

    tl.review(3600, corrections={"ohca.recognized": "2024-03-01T15:01:25Z"})  # +85 s
    s = tl.fold()
    assert s.recognized_at == tl.t(85)
    assert intervals(s)["to_recognition"] == 85.0
    assert benchmarks(s, AHA_2020).recognition_met is True
    d = audit_json(draft(s, AHA_2020))
    assert d["intervals"]["to_recognition"] == 85.0
    assert datetime.fromisoformat(d["original_times"]["ohca.recognized"]) == tl.t(100)
    assert datetime.fromisoformat(d["corrections"]["ohca.recognized"]) == tl.t(85)


def test_recognition_correction_on_an_unrecognised_call(tl):
    tl.received(0)
    tl.conscious(10, "yes")
    tl.review(3600, corrections={"ohca.recognized": "2024-03-01T10:01:10-05:00"})
    s = tl.fold()
    assert s.recognized is True
    assert intervals(s)["to_recognition"] == 70.0
    d = audit_json(draft(s, AHA_2020))
    assert d["recognized"] is True
    assert d["original_times"] == {"ohca.recognized": None}


def test_latest_review_by_at_wins_not_latest_arrival(tl):
    tl.received(0)
    tl.recognized(100)
    # the later review (by `at`) arrives first
    tl.review(7200, tz=CEST, corrections={"ohca.recognized": "2024-03-01T15:01:20Z"})  # +80
    tl.review(3600, tz=UTC, corrections={"ohca.recognized": "2024-03-01T15:01:35Z"})  # +95
    s = tl.fold()
    assert intervals(s)["to_recognition"] == 80.0
    assert s.review is not None
    assert s.review["corrections"] == {"ohca.recognized": "2024-03-01T15:01:20Z"}


def test_latest_review_without_corrections_drops_earlier_corrections(tl):
    tl.received(0)
    tl.recognized(100)
    tl.review(3600, corrections={"ohca.recognized": "2024-03-01T15:01:20Z"})
    tl.review(7200, recognizable=True)
    s = tl.fold()
    assert intervals(s)["to_recognition"] == 100.0
    assert audit_json(draft(s, AHA_2020))["original_times"] == {}


def test_correction_of_other_moments(tl):
    tl.received(0)
    tl.tcpr_started(100)
    tl.first_compression(160)
    tl.dispatched(50)
    tl.review(
        3600,
        corrections={
            "tcpr.first_compression": "2024-03-01T10:02:29-05:00",  # +149
            "unit.dispatched": "2024-03-01T17:00:30+02:00",  # +30
            "tcpr.started": "not a time",  # ignored
            "call.nature": "2024-03-01T15:00:00Z",  # not a correctable kind
        },
    )
    s = tl.fold()
    iv = intervals(s)
    assert iv["to_first_compression"] == 149.0
    assert iv["to_dispatch"] == 30.0
    assert iv["to_tcpr_start"] == 100.0
    assert benchmarks(s, AHA_2020).first_compression_met is True
    assert set(s.corrections) == {"tcpr.first_compression", "unit.dispatched"}


def test_answered_correction_moves_t0_when_there_is_no_call_received(tl):
    """§2: without call.received, T0 is the call.answered time; §4: corrections win over the
    original time, so a corrected call.answered is the corrected T0 (to_answer stays 0)."""
    tl.answered(0, tz=CEST)
    tl.recognized(100)
    tl.review(3600, corrections={"call.answered": "2024-03-01T09:59:50-05:00"})  # 10 s earlier
    s = tl.fold()
    assert s.t0 == tl.t(-10)
    iv = intervals(s)
    assert iv["to_answer"] == 0.0
    assert iv["to_recognition"] == 110.0
    assert benchmarks(s, AHA_2020).recognition_met is False


def test_correction_without_offset_is_ignored(tl):
    tl.received(0)
    tl.recognized(100)
    tl.review(3600, corrections={"ohca.recognized": "2024-03-01T15:01:20"})
    assert intervals(tl.fold())["to_recognition"] == 100.0


# -- benchmarks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recognition_s", "compression_s", "expected"),
    [
        (89.999, 149.9, {"recognition_met": True, "first_compression_met": True}),
        (90, 150, {"recognition_met": False, "first_compression_met": False}),
        (90.001, 150.001, {"recognition_met": False, "first_compression_met": False}),
        (0, 0, {"recognition_met": True, "first_compression_met": True}),
    ],
)
def test_aha_benchmarks_strictly_below(tl, recognition_s, compression_s, expected):
    tl.received(0, tz=CEST)
    tl.recognized(recognition_s, tz=EST)
    tl.first_compression(compression_s, tz=IST)
    s = tl.fold()
    assert intervals(s)["to_recognition"] == pytest.approx(recognition_s, abs=1e-9)
    assert benchmarks_json(benchmarks(s, AHA_2020)) == expected


def test_benchmark_judged_on_the_true_interval_not_a_rounded_one(tl):
    """89.9996 s is strictly below 90 s: recognition is met (§4)."""
    tl.received(0)
    tl.recognized(tl.t(0) + timedelta(seconds=89, microseconds=999600))
    assert benchmarks(tl.fold(), AHA_2020).recognition_met is True


def test_benchmarks_none_when_not_happened(tl):
    tl.received(0)
    assert benchmarks_json(benchmarks(tl.fold(), AHA_2020)) == {
        "recognition_met": None,
        "first_compression_met": None,
    }


@pytest.mark.parametrize(
    ("recognition_s", "compression_s", "aha", "ra"),
    [
        (100, 170, (False, False), (True, True)),
        (89, 149, (True, True), (True, True)),
        (119.9, 179.9, (False, False), (True, True)),
        (120, 180, (False, False), (False, False)),
    ],
)
def test_aha_2020_versus_ra_legacy(tl, recognition_s, compression_s, aha, ra):
    tl.received(0)
    tl.recognized(recognition_s)
    tl.first_compression(compression_s)
    s = tl.fold()
    keys = ("recognition_met", "first_compression_met")
    assert tuple(getattr(benchmarks(s, AHA_2020), k) for k in keys) == aha
    assert tuple(getattr(benchmarks(s, RA_LEGACY), k) for k in keys) == ra
    assert audit_json(draft(s, AHA_2020))["benchmark_profile"] == "aha-2020"
    assert audit_json(draft(s, RA_LEGACY))["benchmark_profile"] == "ra-legacy"
    assert tuple(audit_json(draft(s, RA_LEGACY))["benchmarks"][k] for k in keys) == ra


def test_profiles_thresholds():
    assert set(PROFILES) == {"aha-2020", "ra-legacy"}
    assert (AHA_2020.recognition_s, AHA_2020.first_compression_s) == (90, 150)
    assert (RA_LEGACY.recognition_s, RA_LEGACY.first_compression_s) == (120, 180)
    assert profile_named("ra-legacy") is RA_LEGACY
    with pytest.raises(ValueError, match="unknown benchmark profile"):
        profile_named("aha-2015")


def test_event_without_offset_is_refused():
    from contract.event import Event

    with pytest.raises(ValueError):
        Event("e", "C1", "PSAP1", "call.received", datetime(2024, 3, 1, 10, 0))
    Event("e", "C1", "PSAP1", "call.received", datetime(2024, 3, 1, 10, 0, tzinfo=UTC))


def test_dispatch_in_parallel_is_judged_only_from_a_t0(tl):
    # A CAD export that gives no received or answer time (the RVFD export's arrest rows): the
    # call was recognised and dispatched, but there is no start to measure the dispatch from.
    tl.recognized(10)
    tl.dispatched(20)
    assert tl.fold().t0 is None
    assert dispatch_met(tl.fold(), AHA_2020) is None


def test_dispatch_in_parallel_never_sent_is_not_met(tl):
    tl.received(0)
    tl.recognized(30)
    tl.ended(400)
    assert dispatch_met(tl.fold(), AHA_2020) is False
