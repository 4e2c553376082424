"""A played scenario's score is what its audit draft says: each check is read here again from the
audit's JSON (as QI and the API give it), never from hard-coded results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.training import expected_from_audit

from contract.event import Event
from contract.wire import CanonicalEvent
from service.qi.audit import draft
from service.serialise import audit_json
from service.training.scenarios import Scenario, cad_records, scenario_named
from service.training.scoring import score
from service.triage.profiles import AgencyConfig
from service.triage.state import fold

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRAINING = AgencyConfig(training=True)
Pressed = tuple[str, float, dict[str, Any]]


def played(scenario: Scenario, *pressed: Pressed, end_s: float | None = None) -> list[Event]:
    """The scenario's CAD events and the trainee's console events (kind, seconds, data); the
    CAD's `call.ended` moved to `end_s` where given (the trainer hung up)."""
    records = cad_records(scenario, agency="KCE-TRAIN", call_id="TRN-1-1", trainee="tc",
                          start=START)  # fmt: skip
    if end_s is not None:
        records = [r for r in records if r["kind"] != "call.ended" and
                   datetime.fromisoformat(r["at"]) <= START + timedelta(seconds=end_s)]  # fmt: skip
        records.append({**records[0], "event_id": "end", "kind": "call.ended", "data": {},
                        "at": (START + timedelta(seconds=end_s)).isoformat()})  # fmt: skip
    for i, (kind, s, data) in enumerate(pressed):
        records.append({"event_id": f"con-{i}", "call_id": "TRN-1-1", "agency": "KCE-TRAIN",
                        "kind": kind, "at": (START + timedelta(seconds=s)).isoformat(),
                        "source": "console", "actor": "tc", "data": data})  # fmt: skip
    return [CanonicalEvent.model_validate(r).to_event() for r in records]


GOOD: tuple[Pressed, ...] = (
    ("triage.conscious", 20, {"answer": "no"}),
    ("triage.breathing", 30, {"answer": "no"}),
    ("tcpr.started", 36, {"variant": "adult", "language": "en"}),
    ("tcpr.first_compression", 70, {}),
)
CASES: list[tuple[str, tuple[Pressed, ...], dict[str, bool]]] = [
    ("classic_arrest", GOOD, {}),
    # Slow: recognised at 95 s, first compression at 170 s.
    ("classic_arrest", (("triage.conscious", 60, {"answer": "no"}),
                        ("triage.breathing", 95, {"answer": "unsure"}),
                        ("tcpr.started", 120, {}), ("tcpr.first_compression", 170, {})),
     {"recognition": False, "first_compression": False}),
    # Nothing pressed: the CAD's arrest code recognises it at 100 s, not the trainee.
    ("classic_arrest", (), {"recognition": False, "breathing_verified": False, "script": False,
                            "first_compression": False}),
    # Declared directly without a question: quick, but not the script.
    ("classic_arrest", (("ohca.recognized", 15, {}), ("tcpr.started", 20, {}),
                        ("tcpr.first_compression", 50, {})), {"script": False}),
    # ...and after asking "awake?": justified.
    ("classic_arrest", (("triage.conscious", 14, {"answer": "no"}), ("ohca.recognized", 18, {}),
                        ("tcpr.started", 20, {}), ("tcpr.first_compression", 50, {})), {}),
    # A wrong exclusion: this caller could do CPR.
    ("classic_arrest", (*GOOD[:2], ("tcpr.not_given", 40, {"reason": "caller_unable"})),
     {"first_compression": False, "exclusion": False}),
    # Agonal breathing described and recorded as not breathing.
    ("agonal_breathing", (("triage.conscious", 18, {"answer": "no"}),
                          ("triage.breathing", 26, {"answer": "yes"}),
                          ("triage.breathing", 40, {"answer": "no", "agonal": True}),
                          ("tcpr.started", 45, {}), ("tcpr.first_compression", 80, {})), {}),
    # The trap: "yes, he's breathing" never verified.
    ("agonal_breathing", (("triage.conscious", 18, {"answer": "no"}),
                          ("triage.breathing", 26, {"answer": "yes"})),
     {"recognition": False, "breathing_verified": False, "script": False,
      "first_compression": False}),
    # Confirmed normal: ruled out wrongly.
    ("agonal_breathing", (("triage.conscious", 18, {"answer": "no"}),
                          ("triage.breathing", 26, {"answer": "yes", "confirmed": True})),
     {"recognition": False, "breathing_verified": False, "script": False,
      "first_compression": False}),
    ("caller_refuses", (*GOOD[:2], ("tcpr.started", 35, {}),
                                   ("tcpr.not_given", 60, {"reason": "caller_refused"})), {}),
    ("caller_refuses", (*GOOD[:2], ("tcpr.not_given", 60, {"reason": "caller_unable"})),
     {"exclusion": False}),
    ("caller_refuses", GOOD, {"exclusion": False}),
    ("transfer", (("triage.conscious", 55, {"answer": "no"}),
                 ("triage.breathing", 70, {"answer": "no"}),
                 ("tcpr.started", 75, {}), ("tcpr.first_compression", 110, {})), {}),
    # The caller said "not breathing" at once: a direct recognition needs no questions.
    ("infant", (("ohca.recognized", 12, {}), ("tcpr.started", 16, {"variant": "infant"}),
                ("tcpr.first_compression", 45, {})), {}),
    ("infant", GOOD, {"variant": False}),
    ("caller_alone", GOOD, {}),
    ("spanish_caller", (*GOOD[:2], ("tcpr.started", 36, {"variant": "adult", "language": "es"}),
                                   ("tcpr.first_compression", 70, {})), {}),
    ("spanish_caller", GOOD, {"language": False}),
]  # fmt: skip


@pytest.mark.parametrize(("scenario_id", "pressed", "failed"), CASES)
def test_the_score_is_what_the_audit_says(
    scenario_id: str, pressed: tuple[Pressed, ...], failed: dict[str, bool]
) -> None:
    scenario = scenario_named(scenario_id)
    state = fold("KCE-TRAIN", "TRN-1-1", played(scenario, *pressed), TRAINING)
    d = draft(state, TRAINING.profile)
    result = score(scenario, d)
    got = {c.name: c.passed for c in result.checks}
    assert got == expected_from_audit(scenario, audit_json(d))
    # And the case is the one meant: only the named checks fail.
    assert {name for name, ok in got.items() if not ok} == set(failed)
    assert result.passed == sum(got.values()) and result.total == len(got)
    assert all(c.detail and c.label for c in result.checks)


def test_the_checks_a_scenario_asks_for() -> None:
    def names(scenario_id: str) -> list[str]:
        scenario = scenario_named(scenario_id)
        d = draft(fold("T", "C", played(scenario, *GOOD), TRAINING), TRAINING.profile)
        return [c.name for c in score(scenario, d).checks]

    core = ["recognition", "breathing_verified", "script"]
    assert names("classic_arrest") == [*core, "first_compression", "exclusion"]
    assert names("caller_refuses") == [*core, "exclusion"]  # no compression is expected
    assert names("infant") == [*core, "first_compression", "exclusion", "variant"]
    assert names("spanish_caller") == [*core, "first_compression", "exclusion", "language"]


def test_details_say_what_happened() -> None:
    scenario = scenario_named("agonal_breathing")
    trap = played(scenario, ("triage.conscious", 18, {"answer": "no"}),
                  ("triage.breathing", 26, {"answer": "yes"}), end_s=200)  # fmt: skip
    d = draft(fold("T", "C", trap, TRAINING), TRAINING.profile)
    checks = {c.name: c for c in score(scenario, d).checks}
    assert "left to verify" in checks["breathing_verified"].detail
    assert checks["recognition"].detail.startswith("not recognised")
    good = draft(fold("T", "C", played(scenario, *GOOD), TRAINING), TRAINING.profile)
    checks = {c.name: c for c in score(scenario, good).checks}
    assert checks["recognition"].detail == "recognised at 30.0 s by question; benchmark under 90 s"
    assert checks["first_compression"].detail == "at 70.0 s; benchmark under 150 s"
