"""The JSON the panel and the reviewer receive (DESIGN.md §5 audit, §8 ws `call`), byte for byte.

The view, the audit draft and the performance reports are built in the core and serialised at the
edge; these golden calls pin the serialised result, key order included (the CSV export and the
pages read it in that order), against JSON files written out by hand-checked runs. A change here
is a contract change, never a refactoring detail.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.timeline import CEST, EST, IST, Timeline

from service.qi.audit import draft
from service.qi.cohorts import cohorts
from service.qi.measures import CallSummary
from service.qi.performance import breakdown, outstanding
from service.serialise import (
    audit_json,
    call_view_json,
    performance_json,
    telecommunicator_row_json,
)
from service.triage.profiles import AHA_2020, DEFAULT_CONFIG, AgencyConfig
from service.triage.view import call_view

GOLDEN = Path(__file__).parent / "golden_json"


def reviewed_arrest() -> Timeline:
    """Transferred, recognised on the question pair, coached, corrected and signed off."""
    tl = Timeline(call_id="G1")
    tl.received(0, tz=EST)
    tl.transferred(4, tz=EST)
    tl.answered(40, tz=CEST)
    tl.nature(45, "09-E-01")
    tl.conscious(75, "no", tz=IST)
    tl.dispatched(80, unit="M7")
    tl.breathing(88, "unsure")
    tl.alert(90, "recognition_due")
    tl.tcpr_started(100)
    tl.first_compression(160.25, tz=IST)
    tl.on_scene(412, unit="M7")
    tl.ended(600)
    tl.outcome(3600)
    tl.review(
        7200,
        recognizable=True,
        delay_reasons=["call_transfer"],
        notes="=looks fine",
        corrections={
            "call.received": tl.t(-20, EST).isoformat(),
            "ohca.recognized": tl.t(70, EST).isoformat(),
        },
        signed_off=True,
    )
    return tl


def live_unrecognised() -> Timeline:
    """A live call: answered, the caller says the patient is breathing, no recognition yet."""
    tl = Timeline(call_id="G2")
    tl.received(0)
    tl.answered(5, actor="tc2")
    tl.conscious(20, "no")
    tl.breathing(30, "yes")
    return tl


def not_given_non_arrest() -> Timeline:
    """Declared, T-CPR not given (CPR already under way), EMS: not a cardiac arrest."""
    tl = Timeline(call_id="G3")
    tl.received(0)
    tl.answered(8)
    tl.recognized(50)
    tl.not_given(60)
    tl.ended(300)
    tl.outcome(3600, ohca=False)
    return tl


CALLS = {
    "reviewed_arrest": reviewed_arrest,
    "live_unrecognised": live_unrecognised,
    "not_given_non_arrest": not_given_non_arrest,
}
NO_DISPATCH_ALERTS = AgencyConfig(dispatch_alerts=False)


def text(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def golden(name: str) -> str:
    return (GOLDEN / f"{name}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_audit_json(name: str) -> None:
    assert text(audit_json(draft(CALLS[name]().fold(), AHA_2020))) == golden(f"audit_{name}")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_call_view_json(name: str) -> None:
    tl = CALLS[name]()
    views = [
        call_view_json(call_view(tl.fold(DEFAULT_CONFIG), DEFAULT_CONFIG)),
        call_view_json(call_view(tl.fold(NO_DISPATCH_ALERTS), NO_DISPATCH_ALERTS)),
    ]
    assert text(views) == golden(f"view_{name}")


T = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def summary(
    call_id: str, telecommunicator: str | None, recognized_s: float | None, compression_s: float
) -> CallSummary:
    return CallSummary(
        call_id=call_id,
        t0=T + timedelta(minutes=len(call_id)),
        in_population=call_id != "P3",
        has_ems_outcome=call_id != "P3",
        ems_says_not_arrest=False,
        ems_witnessed=False,
        resuscitation_attempted=True,
        recognized=recognized_s is not None,
        to_recognition=recognized_s,
        to_first_compression=compression_s,
        not_given_reason=None,
        excluded=False,
        excluded_reviewed=False,
        reviewed=call_id == "P1",
        recognizable=True if call_id == "P1" else None,
        signed_off=call_id == "P1",
        telecommunicator=telecommunicator,
    )


def test_performance_json() -> None:
    calls = [
        summary("P1", "tc-1", 40.0, 100.0),
        summary("P2", "tc-1", 95.0, 170.0),
        summary("P3", None, 30.5, 90.0),
    ]
    groups: dict[str | None, list[CallSummary]] = {}
    for c in calls:
        groups.setdefault(c.telecommunicator, []).append(c)
    report = {
        "breakdown": [
            telecommunicator_row_json(row)
            for row in breakdown({t: cohorts(m) for t, m in groups.items()}, AHA_2020)
        ],
        "outstanding": [
            performance_json(p) for p in outstanding(calls, AHA_2020, "America/Chicago")
        ],
    }
    assert text(report) == golden("performance")
