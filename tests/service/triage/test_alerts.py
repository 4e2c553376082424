"""DESIGN.md §4: the alert schedule (applicable / due / next_deadline), live calls only, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.timeline import CEST, EST, IST, UTC, Timeline

from service.qi.audit import draft
from service.serialise import audit_json
from service.triage.alerts import DEFAULT_GRACE, RaiseAlert, applicable, due, next_deadline
from service.triage.profiles import AHA_2020, RA_LEGACY, AgencyConfig


def names(alerts: list[RaiseAlert]) -> list[str]:
    return [a.alert for a in alerts]


@pytest.fixture
def fresh(tl):
    """A live call received at T0 (-05:00), answered at +5 s, nothing asked yet."""
    tl.received(0, tz=EST)
    tl.answered(5, tz=CEST)
    return tl


def test_recognition_alerts_applicable_on_a_fresh_call(fresh):
    s = fresh.fold()
    assert applicable(s, AHA_2020) == [
        RaiseAlert(fresh.t(60), "recognition_due", "PSAP1", "C1"),
        RaiseAlert(fresh.t(90), "recognition_overdue", "PSAP1", "C1"),
    ]


@pytest.mark.parametrize(
    ("now_s", "expected"),
    [
        (0, []),
        (59.999, []),
        (60, ["recognition_due"]),
        (89.999, ["recognition_due"]),
        (90, ["recognition_due", "recognition_overdue"]),
        (200, ["recognition_due", "recognition_overdue"]),
    ],
)
def test_recognition_due_and_overdue(fresh, now_s, expected):
    s = fresh.fold()
    assert names(due(s, AHA_2020, fresh.t(now_s, UTC))) == expected


def test_deadlines_are_instants_whatever_the_offset_of_now(fresh):
    s = fresh.fold()
    # now written in +05:30; 60 s after T0 as an instant
    [a] = due(s, AHA_2020, fresh.t(60, IST))
    assert a.deadline == fresh.t(60)
    assert a.alert == "recognition_due"
    assert a.event_id == "alert:C1:recognition_due"


def test_recognition_alerts_while_only_one_question_answered(fresh):
    fresh.conscious(20, "no")
    assert names(due(fresh.fold(), AHA_2020, fresh.t(60))) == ["recognition_due"]


def test_fired_alert_is_not_due_again(fresh):
    fresh.alert(60.2, "recognition_due")
    s = fresh.fold()
    assert s.alerts == ("recognition_due",)
    assert names(due(s, AHA_2020, fresh.t(61))) == []
    assert names(due(s, AHA_2020, fresh.t(90))) == ["recognition_overdue"]
    assert names(applicable(s, AHA_2020)) == ["recognition_overdue"]
    assert next_deadline(s, AHA_2020, fresh.t(61)) == fresh.t(90)


def test_all_fired_means_nothing_more(fresh):
    fresh.alert(60, "recognition_due")
    fresh.alert(90, "recognition_overdue")
    s = fresh.fold()
    assert due(s, AHA_2020, fresh.t(120)) == []
    assert next_deadline(s, AHA_2020, fresh.t(120)) is None


def test_next_deadline_on_a_fresh_call(fresh):
    s = fresh.fold()
    assert next_deadline(s, AHA_2020, fresh.t(10)) == fresh.t(60)
    assert next_deadline(s, RA_LEGACY, fresh.t(10)) == fresh.t(90)


def test_ruled_out_call_has_no_recognition_alerts(fresh):
    fresh.conscious(20, "no")
    fresh.add("triage.breathing", 30, data={"answer": "yes", "confirmed": True})
    s = fresh.fold()
    assert s.ruled_out is True
    assert applicable(s, AHA_2020) == []
    assert due(s, AHA_2020, fresh.t(90)) == []
    assert next_deadline(s, AHA_2020, fresh.t(40)) is None


def test_breathing_to_verify_keeps_the_recognition_alerts(fresh):
    """ "Not awake" then an unconfirmed "yes, breathing": the agonal trap, never silent (§3)."""
    fresh.conscious(20, "no")
    fresh.breathing(30, "yes")
    s = fresh.fold()
    assert s.verify_breathing is True and s.ruled_out is False
    assert names(due(s, AHA_2020, fresh.t(90))) == ["recognition_due", "recognition_overdue"]
    # Described as gasping: recognised by the question path at that answer, alerts move on.
    fresh.add("triage.breathing", 70, data={"answer": "no", "agonal": True})
    r = fresh.fold()
    assert r.recognized and r.path == "question" and r.recognized_at == fresh.t(70)
    assert names(applicable(r, AHA_2020)) == ["compression_due", "compression_overdue"]


def test_reopened_call_gets_compression_alerts(fresh):
    fresh.conscious(20, "yes")
    fresh.conscious(100, "no")
    fresh.breathing(110, "no")  # recognised at +110
    s = fresh.fold()
    assert names(applicable(s, AHA_2020)) == ["compression_due", "compression_overdue"]
    assert names(due(s, AHA_2020, fresh.t(120))) == ["compression_due"]


@pytest.mark.parametrize(
    ("now_s", "expected"),
    [
        (45, []),
        (119.9, []),
        (120, ["compression_due"]),
        (149.9, ["compression_due"]),
        (150, ["compression_due", "compression_overdue"]),
    ],
)
def test_compression_due_and_overdue_while_recognised(fresh, now_s, expected):
    fresh.recognized(40, tz=CEST)
    s = fresh.fold()
    assert names(due(s, AHA_2020, fresh.t(now_s))) == expected


def test_recognised_call_has_no_recognition_alerts(fresh):
    fresh.nature(30, "09-E-01")
    s = fresh.fold()
    assert "recognition_due" not in names(applicable(s, AHA_2020))
    assert due(s, AHA_2020, fresh.t(90)) == []
    assert next_deadline(s, AHA_2020, fresh.t(35)) == fresh.t(120)


def test_first_compression_stops_compression_alerts(fresh):
    fresh.recognized(40)
    fresh.first_compression(110)
    s = fresh.fold()
    assert applicable(s, AHA_2020) == []
    assert due(s, AHA_2020, fresh.t(150)) == []
    assert next_deadline(s, AHA_2020, fresh.t(111)) is None


def test_tcpr_not_given_stops_compression_alerts(fresh):
    fresh.recognized(40)
    fresh.not_given(70, reason="cpr_in_progress")
    s = fresh.fold()
    assert applicable(s, AHA_2020) == []
    assert due(s, AHA_2020, fresh.t(150)) == []


def test_tcpr_started_alone_does_not_stop_compression_alerts(fresh):
    fresh.recognized(40)
    fresh.tcpr_started(80)
    s = fresh.fold()
    assert names(due(s, AHA_2020, fresh.t(150))) == ["compression_due", "compression_overdue"]


@pytest.mark.parametrize("recognised", [False, True])
def test_nothing_after_call_ended(fresh, recognised):
    if recognised:
        fresh.recognized(40)
    fresh.ended(50, tz=CEST)
    s = fresh.fold()
    assert s.live is False
    assert applicable(s, AHA_2020) == []
    assert due(s, AHA_2020, fresh.t(90)) == []
    assert due(s, AHA_2020, fresh.t(150)) == []
    assert next_deadline(s, AHA_2020, fresh.t(51)) is None


def test_call_without_t0_has_no_alerts(tl):
    tl.conscious(10, "no")
    s = tl.fold()
    assert applicable(s, AHA_2020) == []
    assert next_deadline(s, AHA_2020, tl.t(60)) is None


def test_grace_window(fresh):
    s = fresh.fold()
    assert timedelta(minutes=5) == DEFAULT_GRACE
    # at +360 the +60 deadline is exactly `grace` old: still fired
    assert names(due(s, AHA_2020, fresh.t(360))) == ["recognition_due", "recognition_overdue"]
    # at +361 it is older than grace: only the +90 one is still fired
    assert names(due(s, AHA_2020, fresh.t(361))) == ["recognition_overdue"]
    assert next_deadline(s, AHA_2020, fresh.t(361)) == fresh.t(90)
    # at +391 both are stale
    assert due(s, AHA_2020, fresh.t(391)) == []
    assert next_deadline(s, AHA_2020, fresh.t(391)) is None


def test_custom_grace(fresh):
    s = fresh.fold()
    grace = timedelta(seconds=10)
    assert names(due(s, AHA_2020, fresh.t(70), grace)) == ["recognition_due"]
    assert names(due(s, AHA_2020, fresh.t(70.5), grace)) == []
    assert names(due(s, AHA_2020, fresh.t(95), grace)) == ["recognition_overdue"]
    assert next_deadline(s, AHA_2020, fresh.t(70.5), grace) == fresh.t(90)


def test_ra_legacy_offsets(fresh):
    assert RA_LEGACY.alert_offsets() == {
        "recognition_due": 90,
        "recognition_overdue": 120,
        "compression_due": 150,
        "compression_overdue": 180,
        "dispatch_overdue": 120,
    }
    s = fresh.fold()
    assert names(due(s, RA_LEGACY, fresh.t(89.9))) == []
    assert names(due(s, RA_LEGACY, fresh.t(90))) == ["recognition_due"]
    assert names(due(s, RA_LEGACY, fresh.t(120))) == ["recognition_due", "recognition_overdue"]
    fresh.recognized(100)
    r = fresh.fold()
    assert [(a.alert, a.deadline) for a in applicable(r, RA_LEGACY)] == [
        ("compression_due", fresh.t(150)),
        ("compression_overdue", fresh.t(180)),
    ]
    assert names(due(r, RA_LEGACY, fresh.t(149.9))) == []
    assert names(due(r, RA_LEGACY, fresh.t(150))) == ["compression_due"]
    assert names(due(r, RA_LEGACY, fresh.t(180))) == ["compression_due", "compression_overdue"]


def test_aha_offsets():
    assert AHA_2020.alert_offsets() == {
        "recognition_due": 60,
        "recognition_overdue": 90,
        "compression_due": 120,
        "compression_overdue": 150,
        "dispatch_overdue": 90,
    }


def test_deadlines_follow_a_corrected_t0(fresh):
    fresh.review(30, corrections={"call.received": "2024-03-01T16:59:50+02:00"})  # T0 - 10 s
    s = fresh.fold()
    assert [a.deadline for a in applicable(s, AHA_2020)] == [fresh.t(50), fresh.t(80)]


MEDICAL_ONLY = AgencyConfig(alert_scope="medical")


@pytest.mark.parametrize(
    ("nature", "in_scope"),
    [
        ("131-D-1", False),  # a police determinant (PPDS)
        ("69-D-6", False),  # a structure fire (FPDS)
        ("BURGLARY", False),
        (None, False),  # no nature yet
        ("10-D-1", True),  # chest pain (MPDS)
        ("26A01", True),
        ("17-D-3", True),
    ],
)
def test_a_medical_scope_silences_other_calls(fresh, nature, in_scope):
    if nature is not None:
        fresh.nature(5, nature)
    s = fresh.fold(MEDICAL_ONLY)
    assert s.in_scope is in_scope
    expected = ["recognition_due", "recognition_overdue"] if in_scope else []
    assert names(due(s, AHA_2020, fresh.t(90))) == expected
    # Every call is in scope where the agency keeps the default scope.
    assert fresh.fold().in_scope is True


def test_a_console_event_brings_a_call_into_a_medical_scope(fresh):
    fresh.nature(5, "BURGLARY")
    fresh.conscious(30, "unsure")  # the telecommunicator opened the script
    s = fresh.fold(MEDICAL_ONLY)
    assert s.in_scope is True
    assert names(due(s, AHA_2020, fresh.t(60))) == ["recognition_due"]


def test_dispatch_overdue_only_where_the_agency_turns_it_on(fresh):
    fresh.conscious(20, "no")
    s = fresh.fold()
    assert "dispatch_overdue" not in names(due(s, AHA_2020, fresh.t(90)))
    assert names(due(s, AHA_2020, fresh.t(90), dispatch_alerts=True)) == [
        "recognition_due",
        "dispatch_overdue",
        "recognition_overdue",
    ]


def test_dispatch_overdue_needs_a_negative_answer_or_a_recognition(fresh):
    # Awake, no unit: nothing called for a dispatch in parallel.
    fresh.conscious(20, "yes")
    assert names(applicable(fresh.fold(), AHA_2020, dispatch_alerts=True)) == []
    # Recognised directly, no unit: due at the recognition benchmark.
    recognised = Timeline(call_id="R")
    recognised.received(0)
    recognised.recognized(30)
    alerts = applicable(recognised.fold(), AHA_2020, dispatch_alerts=True)
    assert ("dispatch_overdue", recognised.t(90)) in [(a.alert, a.deadline) for a in alerts]
    # A unit dispatched before the deadline: nothing.
    recognised.dispatched(60)
    assert "dispatch_overdue" not in names(
        applicable(recognised.fold(), AHA_2020, dispatch_alerts=True)
    )


@pytest.mark.parametrize(
    ("dispatched", "met"), [(85, True), (90, False), (95, False), (None, False)]
)
def test_dispatch_met_in_the_audit(fresh, dispatched, met):
    fresh.conscious(20, "no")
    if dispatched is not None:
        fresh.dispatched(dispatched)
    d = audit_json(draft(fresh.fold(), AHA_2020))
    assert d["dispatch_met"] is met
    assert "dispatch_met" not in d["benchmarks"]  # the contract's two benchmarks stay as they are
