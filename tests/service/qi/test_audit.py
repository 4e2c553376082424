"""DESIGN.md §5 / §8: the audit draft and its suggested reasons."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from support.timeline import CEST, EST, IST, UTC

from service.qi.audit import DELAY_REASONS, NONRECOGNITION_REASONS, draft
from service.serialise import audit_json
from service.triage.profiles import AHA_2020, RA_LEGACY


def reasons(d: dict) -> list[str]:
    return [r["reason"] for r in d["suggested_reasons"]]


def test_contract_keys_and_golden_values(tl):
    tl.received(0, tz=EST)
    tl.transferred(4, tz=EST)
    tl.answered(12, tz=CEST)
    tl.nature(15, "10-D-01", tz=UTC)
    tl.conscious(25, "no", tz=IST)
    tl.breathing(48, "unsure", tz=CEST)
    tl.dispatched(30, tz=UTC, unit="M7")
    tl.tcpr_started(70)
    tl.alert(60, "recognition_due")
    tl.first_compression(95.5, tz=IST)
    tl.on_scene(412)
    d = audit_json(draft(tl.fold(), AHA_2020))

    assert {
        "t0",
        "intervals",
        "benchmarks",
        "recognized",
        "recognition_path",
        "alerts",
    } <= set(d)
    assert datetime.fromisoformat(d["t0"]) == tl.t(0)
    assert datetime.fromisoformat(d["t0"]).utcoffset() == tl.t(0).utcoffset()
    assert d["intervals"] == {
        "to_answer": 12.0,
        "to_recognition": 48.0,
        "to_dispatch": 30.0,
        "to_tcpr_start": 70.0,
        "to_first_compression": 95.5,
        "to_on_scene": 412.0,
    }
    # Dispatched at 30 s, under the 90 s recognition standard (dispatch in parallel, §4).
    assert d["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
    assert d["dispatch_met"] is True
    assert d["recognized"] is True
    assert d["recognition_path"] == "question"
    assert d["alerts"] == ["recognition_due"]
    assert d["benchmark_profile"] == "aha-2020"
    assert d["units"] == ["M7"]
    assert d["telecommunicator"] == "tc1"
    assert d["psap"] == "PSAP-A"
    assert d["answers"] == {
        "conscious": "no",
        "breathing": "unsure",
        "breathing_confirmed": False,
        "breathing_agonal": False,
    }
    assert d["tcpr"] == {
        "started": True,
        "variant": None,
        "language": None,
        "protocol": None,
        "first_compression": True,
        "not_given_reason": None,
        "not_given_note": None,
        "excluded": False,
        "exclusion_valid": None,
        "excluded_when_reviewed": False,
    }
    assert d["live"] is True
    assert d["reviewed"] is False
    assert d["determination"] == {
        "recognizable": None,
        "nonrecognition_reasons": [],
        "delay_reasons": [],
        "notes": None,
        "feedback": None,
        "signed_off": False,
        "exclusion_valid": None,
        "reviewer": None,
        "reviewed_at": None,
    }
    assert d["signed_off"] is False
    assert d["suggested_reasons"] == []
    json.dumps(d)  # JSON-ready


def test_unrecognised_call_draft(tl):
    tl.received(0)
    tl.answered(3)
    tl.conscious(10, "yes")
    tl.ended(120)
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["recognized"] is False
    assert d["recognition_path"] is None
    # Awake: nothing called for a dispatch in parallel.
    assert d["benchmarks"] == {"recognition_met": None, "first_compression_met": None}
    assert d["dispatch_met"] is None
    assert d["intervals"]["to_recognition"] is None
    assert d["alerts"] == []
    assert d["live"] is False


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda tl: tl.recognized(30), "direct"),
        (lambda tl: tl.nature(30, "9E1"), "nature_code"),
        (lambda tl: (tl.breathing(20, "no"), tl.conscious(30, "no")), "question"),
    ],
)
def test_recognition_path_in_draft(tl, build, path):
    tl.received(0)
    build(tl)
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["recognition_path"] == path
    assert d["intervals"]["to_recognition"] == 30.0


def test_profile_recorded_and_used(tl):
    tl.received(0)
    tl.recognized(100)
    d = audit_json(draft(tl.fold(), RA_LEGACY))
    assert d["benchmark_profile"] == "ra-legacy"
    assert d["benchmarks"]["recognition_met"] is True
    assert d["thresholds"] == {"recognition_s": 120, "first_compression_s": 180}


def test_not_given_in_draft(tl):
    tl.received(0)
    tl.recognized(30)
    tl.add(
        "tcpr.not_given",
        50,
        data={"reason": "caller_refused", "note": "hung up on instructions"},
        source="console",
    )
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["tcpr"]["not_given_reason"] == "caller_refused"
    assert d["tcpr"]["not_given_note"] == "hung up on instructions"
    assert d["tcpr"]["first_compression"] is False


def test_review_determination_in_draft(tl):
    tl.received(0)
    tl.review(
        3600,
        recognizable=False,
        nonrecognition_reasons=["caller_not_with_patient"],
        delay_reasons=["language_barrier"],
        notes="third-party caller",
    )
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["reviewed"] is True
    assert d["determination"] == {
        "recognizable": False,
        "nonrecognition_reasons": ["caller_not_with_patient"],
        "delay_reasons": ["language_barrier"],
        "notes": "third-party caller",
        "feedback": None,
        "signed_off": False,
        "exclusion_valid": None,
        "reviewer": "qi1",
        "reviewed_at": "2024-03-01T11:00:00-05:00",
    }


# -- suggested reasons -------------------------------------------------------------------------


def test_suggest_call_transfer_when_answered_more_than_30_s_after_connection(tl):
    tl.received(0, tz=EST)
    tl.transferred(8, tz=CEST)
    tl.answered(41, tz=IST)
    tl.conscious(50, "no")
    tl.breathing(55, "no")
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == ["call_transfer"]


def test_no_call_transfer_at_exactly_30_s(tl):
    tl.received(0)
    tl.transferred(8)
    tl.answered(30)
    tl.conscious(40, "no")
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == []


def test_no_call_transfer_without_a_transfer(tl):
    tl.received(0)
    tl.answered(41)
    tl.conscious(50, "no")
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == []


def test_suggest_agonal_breathing_when_ems_confirms_arrest(tl):
    tl.received(0)
    tl.answered(5)
    tl.conscious(15, "no")
    tl.breathing(22, "yes")
    tl.ended(300)
    tl.outcome(3600, ohca=True, attempted=True, witnessed=False)
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["recognized"] is False
    assert d["in_population"] is True
    assert reasons(d) == ["agonal_breathing_reported_as_breathing"]


def test_no_agonal_suggestion_when_recognised(tl):
    tl.received(0)
    tl.answered(5)
    tl.conscious(15, "no")
    tl.breathing(22, "yes")
    tl.recognized(70)
    tl.outcome(3600)
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == []


def test_no_agonal_suggestion_when_ems_says_not_arrest(tl):
    tl.received(0)
    tl.answered(5)
    tl.conscious(15, "no")
    tl.breathing(22, "yes")
    tl.outcome(3600, ohca=False, attempted=False)
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == []


def test_suggest_signs_of_life(tl):
    tl.received(0)
    tl.answered(5)
    tl.conscious(15, "yes")
    tl.outcome(3600)
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == ["signs_of_life_reported"]


def test_suggest_address_verification_and_moving_to_floor(tl):
    tl.received(0)
    tl.answered(5)
    tl.conscious(40, "no")  # 35 s after answer
    tl.breathing(45, "no")
    tl.tcpr_started(50)
    tl.first_compression(90)  # 40 s after instructions began
    assert reasons(audit_json(draft(tl.fold(), AHA_2020))) == [
        "address_verification",
        "moving_patient_to_floor",
    ]


def test_suggested_reasons_are_coded_reasons(tl):
    assert "call_transfer" in DELAY_REASONS
    assert "address_verification" in DELAY_REASONS
    assert "moving_patient_to_floor" in DELAY_REASONS
    assert "agonal_breathing_reported_as_breathing" in NONRECOGNITION_REASONS
    assert "signs_of_life_reported" in NONRECOGNITION_REASONS


# -- over-triage, EMS outcome ------------------------------------------------------------------


def test_over_triage_flag(tl):
    tl.received(0)
    tl.nature(20, "09-D-01")
    tl.outcome(3600, ohca=False, attempted=False)
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["recognized"] is True
    assert d["over_triage"] is True
    assert d["in_population"] is False


def test_latest_ems_outcome_by_at_in_draft(tl):
    tl.received(0)
    tl.recognized(30)
    tl.outcome(7200, tz=CEST, ohca=True, attempted=True, witnessed=False)  # later, arrives first
    tl.outcome(3600, tz=UTC, ohca=False, attempted=False)
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["ems_outcome"] == {
        "ohca": True,
        "resuscitation_attempted": True,
        "ems_witnessed": False,
    }
    assert d["in_population"] is True
    assert d["over_triage"] is False
