"""The contract's kinds and typed payloads: the same strings as DESIGN.md §2, decoded totally."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from contract.event import Event, as_dict, from_dict
from contract.kinds import KINDS, Kind
from contract.payloads import (
    AlertRaised,
    Answer,
    EmsOutcome,
    FeedbackAcknowledged,
    Nature,
    NoPayload,
    NotGiven,
    Received,
    Review,
    TcprStarted,
    Transferred,
    Unit,
    decode,
)

AT = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
# DESIGN.md §2's table, verbatim: storage, JSON and the wire keep exactly these strings.
DESIGN_KINDS = (
    "call.received",
    "call.transferred",
    "call.answered",
    "call.nature",
    "triage.conscious",
    "triage.breathing",
    "ohca.recognized",
    "tcpr.started",
    "tcpr.first_compression",
    "tcpr.not_given",
    "unit.dispatched",
    "unit.on_scene",
    "call.ended",
    "ems.outcome",
    "qi.review",
    "feedback.acknowledged",
    "alert.raised",
)


def test_kinds_are_the_contract_strings() -> None:
    assert KINDS == DESIGN_KINDS
    assert [str(kind) for kind in Kind] == list(DESIGN_KINDS)
    assert json.dumps([Kind.CALL_RECEIVED]) == '["call.received"]'
    assert {Kind.QI_REVIEW: 1}["qi.review"] == 1


@pytest.mark.parametrize(
    ("kind", "data", "payload"),
    [
        ("call.received", {"psap": "P", "area": "A"}, Received("P", "A")),
        ("call.transferred", {"to": "EMS"}, Transferred("EMS")),
        ("call.nature", {"code": "9-E-1", "text": "arrest"}, Nature("9-E-1", "arrest")),
        ("triage.breathing", {"answer": "yes", "confirmed": True}, Answer("yes", True, False)),
        ("triage.conscious", {"answer": "no"}, Answer("no")),
        ("tcpr.started", {"variant": "child"}, TcprStarted(variant="child")),
        ("tcpr.not_given", {"reason": "unsafe", "note": "n"}, NotGiven("unsafe", "n")),
        ("unit.on_scene", {"unit": "M1"}, Unit("M1")),
        ("ems.outcome", {"ohca": True, "pcr_key": "x"}, EmsOutcome(ohca=True)),
        ("alert.raised", {"alert": "recognition_due"}, AlertRaised("recognition_due")),
        ("feedback.acknowledged", {"review": "r1"}, FeedbackAcknowledged("r1")),
        ("feedback.acknowledged", {"review": 7}, FeedbackAcknowledged()),
        ("call.ended", {"anything": 1}, NoPayload()),
        ("not.a.kind", {"code": "9-E-1"}, NoPayload()),
    ],
)
def test_each_kind_decodes_to_its_payload(
    kind: str, data: dict[str, object], payload: object
) -> None:
    assert decode(kind, data) == payload


def test_a_wrong_type_reads_as_absent() -> None:
    """Decoding never raises: the wire refuses wrong types, stored data is read as it is."""
    assert decode("call.nature", {"code": 9, "text": None}) == Nature()
    assert decode("triage.breathing", {"answer": ["no"], "confirmed": "yes"}) == Answer()
    assert decode("unit.dispatched", {"unit": {"id": 1}}) == Unit()
    review = decode(
        "qi.review",
        {
            "recognizable": "yes",
            "delay_reasons": ["call_transfer", 3],
            "corrections": ["call.received"],
            "notes": "  ",
            "signed_off": 1,
        },
    )
    assert review == Review(delay_reasons=("call_transfer",))


def test_the_event_carries_its_data_verbatim_and_the_payload_beside_it() -> None:
    data = {"code": "9-E-1", "extra": [1, 2]}
    e = Event("e1", "c1", "A", Kind.CALL_NATURE, AT, data=data)
    assert e.data is data and e.payload == Nature("9-E-1")
    again = from_dict(json.loads(json.dumps(as_dict(e))))
    assert again == e and again.payload == e.payload
    assert as_dict(again)["kind"] == "call.nature"
    changed = dataclasses.replace(e, data={"code": "26-A-1"})
    assert changed.payload == Nature("26-A-1")
