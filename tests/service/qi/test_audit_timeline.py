"""The audit draft's timeline and the reviewer's determination (DESIGN.md §2 qi.review, §5).

Expected values are worked out by hand from the event times below (REF = 2024-03-01 10:00:00
-05:00), never from the service's own arithmetic.
"""

from __future__ import annotations

import json

import pytest
from support.timeline import CEST, EST, IST, UTC

from contract.reasons import reason_problem
from service.qi.audit import draft
from service.qi.review import determination
from service.serialise import audit_json, determination_json
from service.triage.profiles import AHA_2020


def build_call(tl):
    tl.received(0, tz=EST)  # 10:00:00-05:00
    tl.answered(12, tz=CEST)  # 17:00:12+02:00
    tl.conscious(25, "no", tz=IST)  # 20:30:25+05:30
    tl.dispatched(30, tz=UTC, unit="M7")  # 15:00:30Z
    tl.breathing(48, "unsure")  # completes the pair: recognition
    tl.alert(60, "recognition_due")
    tl.tcpr_started(70)
    tl.first_compression(95.5, tz=IST)
    tl.ended(600)
    tl.outcome(3600)
    return tl


def test_timeline_lists_every_event_and_alert_in_order(tl):
    d = audit_json(draft(build_call(tl).fold(), AHA_2020))
    rows = [
        (e["kind"], e["at"], e["seconds"], e["source"], e["actor"], e["description"])
        for e in d["timeline"]
    ]
    assert rows == [
        ("call.received", "2024-03-01T10:00:00-05:00", 0.0, "cad", None,
         "911 call connected at PSAP-A"),
        ("call.answered", "2024-03-01T17:00:12+02:00", 12.0, "cad", "tc1", "Answered by tc1"),
        ("triage.conscious", "2024-03-01T20:30:25+05:30", 25.0, "console", None,
         "Awake / conscious? no"),
        ("unit.dispatched", "2024-03-01T15:00:30+00:00", 30.0, "cad", None, "Unit M7 dispatched"),
        ("triage.breathing", "2024-03-01T10:00:48-05:00", 48.0, "console", None,
         "Breathing normally? unsure"),
        ("alert.raised", "2024-03-01T10:01:00-05:00", 60.0, "system", None,
         "Alert: recognition due"),
        ("tcpr.started", "2024-03-01T10:01:10-05:00", 70.0, "console", None,
         "T-CPR instructions begun"),
        ("tcpr.first_compression", "2024-03-01T20:31:35.500000+05:30", 95.5, "console", None,
         "First directed compression"),
        ("call.ended", "2024-03-01T10:10:00-05:00", 600.0, "cad", None, "Call ended"),
        ("ems.outcome", "2024-03-01T11:00:00-05:00", 3600.0, "ems", None,
         "EMS outcome: cardiac arrest, resuscitation attempted"),
    ]  # fmt: skip
    assert [e["alert"] for e in d["timeline"]] == [None] * 5 + ["recognition_due"] + [None] * 4
    # The answer that completed the pair is the one that recognised the call.
    assert [e["kind"] for e in d["timeline"] if e["recognition"]] == ["triage.breathing"]
    assert all(e["corrected_at"] is None for e in d["timeline"])
    # The contract keys are all still there beside the new one.
    assert {"t0", "intervals", "benchmarks", "recognized", "recognition_path", "alerts"} <= set(d)
    json.dumps(d)


def test_a_verified_breathing_answer_says_how_it_was_verified(tl):
    tl.received(0)
    tl.conscious(10, "no")
    tl.breathing(20, "yes")  # "he's snoring": to verify
    tl.add("triage.breathing", 35, data={"answer": "no", "agonal": True}, source="console")
    tl.add("triage.breathing", 50, data={"answer": "yes", "confirmed": True}, source="console")
    d = audit_json(draft(tl.fold(), AHA_2020))
    said = [e["description"] for e in d["timeline"] if e["kind"] == "triage.breathing"]
    assert said == [
        "Breathing normally? yes",
        "Breathing normally? no (agonal breathing described)",
        "Breathing normally? yes (confirmed normal)",
    ]


def test_corrections_move_the_timeline_clock_and_show_beside_the_original(tl):
    build_call(tl)
    tl.review(
        7200,
        recognizable=True,
        # The recording: connected 20 s earlier, and the arrest was clear at +40 s.
        corrections={
            "call.received": tl.t(-20, EST).isoformat(),
            "ohca.recognized": tl.t(40, EST).isoformat(),
        },
        signed_off=True,
    )
    d = audit_json(draft(tl.fold(), AHA_2020))
    by_kind = {e["kind"]: e for e in d["timeline"]}
    received = by_kind["call.received"]
    assert (received["at"], received["seconds"]) == ("2024-03-01T10:00:00-05:00", 20.0)
    assert (received["corrected_at"], received["corrected_seconds"]) == (
        "2024-03-01T09:59:40-05:00",
        0.0,
    )
    # Recognition came by the questions, so its correction shows on the completing answer.
    breathing = by_kind["triage.breathing"]
    assert breathing["recognition"] is True
    assert (breathing["seconds"], breathing["corrected_seconds"]) == (68.0, 60.0)
    assert breathing["corrected_at"] == "2024-03-01T10:00:40-05:00"
    assert by_kind["tcpr.first_compression"]["seconds"] == 115.5
    review = by_kind["qi.review"]
    assert review["actor"] == "qi1"
    assert review["source"] == "qi"
    assert review["description"] == "QI review by qi1: recognizable, 2 time corrections, signed off"
    assert d["intervals"]["to_recognition"] == 60.0
    assert d["original_times"]["ohca.recognized"] == "2024-03-01T10:00:48-05:00"


def test_direct_and_nature_recognition_marked_once(tl):
    tl.received(0)
    tl.nature(20, "09-E-01")
    tl.recognized(20)  # same instant, later arrival: the nature code came first
    tl.recognized(35)
    tl.review(900, corrections={"ohca.recognized": tl.t(15).isoformat()})
    d = audit_json(draft(tl.fold(), AHA_2020))
    marked = [(e["kind"], e["seconds"]) for e in d["timeline"] if e["recognition"]]
    assert marked == [("call.nature", 20.0)]
    corrected = [e["kind"] for e in d["timeline"] if e["corrected_at"]]
    assert corrected == ["call.nature"]
    assert d["timeline"][1]["description"] == "Nature 09-E-01 (nature)"


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (lambda tl: tl.transferred(3, to="EMS-2"), "Transferred to EMS-2"),
        (lambda tl: tl.on_scene(400, unit="E12"), "Unit E12 on scene"),
        (lambda tl: tl.not_given(50, reason="caller_unable"), "T-CPR not given: caller unable"),
        (
            lambda tl: tl.add(
                "tcpr.not_given", 50, data={"reason": "unsafe", "note": "dog"}, source="console"
            ),
            "T-CPR not given: unsafe (dog)",
        ),
        (lambda tl: tl.outcome(900, ohca=False), "EMS outcome: not a cardiac arrest"),
        (
            lambda tl: tl.outcome(900, witnessed=True),
            "EMS outcome: cardiac arrest, resuscitation attempted, witnessed by EMS",
        ),
        (lambda tl: tl.alert(150, "compression_overdue"), "Alert: first compression overdue"),
        (
            lambda tl: tl.review(900, recognizable=False),
            "QI review by qi1: not recognizable, draft",
        ),
    ],
)
def test_descriptions(tl, event, text):
    tl.received(0)
    event(tl)
    assert audit_json(draft(tl.fold(), AHA_2020))["timeline"][-1]["description"] == text


# -- the determination ---------------------------------------------------------------------------


def test_signed_off_review_with_feedback_and_reviewer(tl):
    tl.received(0)
    tl.add(
        "qi.review",
        3600,
        source="qi",
        actor="qi-ana",
        tz=CEST,
        data={
            "recognizable": True,
            "nonrecognition_reasons": [],
            "delay_reasons": ["call_transfer", "other: caller on a ladder"],
            "notes": "transfer from county",
            "feedback": "Good control of the caller.",
            "signed_off": True,
        },
    )
    d = audit_json(draft(tl.fold(), AHA_2020))
    assert d["determination"] == {
        "recognizable": True,
        "nonrecognition_reasons": [],
        "delay_reasons": ["call_transfer", "other: caller on a ladder"],
        "notes": "transfer from county",
        "feedback": "Good control of the caller.",
        "signed_off": True,
        "exclusion_valid": None,
        "reviewer": "qi-ana",
        "reviewed_at": "2024-03-01T18:00:00+02:00",  # 16:00Z
    }
    assert d["signed_off"] is True
    assert d["reviewed"] is True


def test_latest_review_replaces_the_earlier_one_whole(tl):
    tl.received(0)
    signed = tl.add(
        "qi.review",
        7200,
        source="qi",
        actor="qi-b",
        data={"recognizable": False, "signed_off": True, "feedback": "x"},
    )
    # A draft written earlier (by `at`) but arriving later is not in force...
    tl.add("qi.review", 3600, source="qi", actor="qi-a", data={"recognizable": True})
    d = determination_json(determination(tl.fold()))
    assert (d["reviewer"], d["signed_off"], d["recognizable"]) == ("qi-b", True, False)
    assert d["reviewed_at"] == signed.at.isoformat()
    # ...and a later one without sign-off reopens the call: nothing carries over.
    tl.add("qi.review", 9000, source="qi", actor="qi-c", data={"notes": "  "})
    d = determination_json(determination(tl.fold()))
    assert d == {
        "recognizable": None,
        "nonrecognition_reasons": [],
        "delay_reasons": [],
        "notes": None,
        "feedback": None,
        "signed_off": False,
        "exclusion_valid": None,
        "reviewer": "qi-c",
        "reviewed_at": "2024-03-01T12:30:00-05:00",
    }


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        ("agonal_breathing_reported_as_breathing", True),
        ("other: caller was the patient's neighbour", True),
        ("other:x", True),
        ("caller not with patient", True),  # free text without the form's prefix is kept too
        ("other:   ", False),
        ("   ", False),
        ("", False),
        ("other: " + "x" * 501, False),
        ("other: " + "x" * 500, True),
        ("x" * 501, False),
    ],
)
def test_reasons_are_codes_or_free_text_never_blank(reason, ok):
    assert (reason_problem(reason) is None) is ok


def test_the_timeline_says_how_the_reviewer_judged_the_exclusion(tl):
    tl.received(0)
    tl.recognized(40)
    tl.not_given(60, reason="caller_refused")
    tl.review(7200, exclusion_valid=False, signed_off=True)
    tl.review(7300, exclusion_valid=True)
    rows = [
        r for r in audit_json(draft(tl.fold(), AHA_2020))["timeline"] if r["kind"] == "qi.review"
    ]
    assert [r["description"] for r in rows] == [
        "QI review by qi1: exclusion rejected, signed off",
        "QI review by qi1: exclusion accepted, draft",
    ]
