"""A played training scenario scored from its audit draft: the same core judges real calls, so a
trainee is held to exactly what QI will hold them to on the floor.

The checks follow the AHA T-CPR program's measures and script (DESIGN.md §3-§5):
- `recognition`: recognised with the benchmark met (aha-2020: under 90 s from T0);
- `breathing_verified`: the patient was established as not breathing normally: a `no` / `unsure`
  to "breathing normally?" (agonal breathing described and recorded as `no`), or a direct
  declaration. A `yes` left unverified, or confirmed normal, is the agonal-breathing trap;
- `script`: recognition came from the script: both questions (the question path), or a direct
  declaration that was justified (the caller volunteered the arrest, or "awake?" was asked
  first). A recognition by the CAD nature code alone is not the trainee's;
- `first_compression`: the first directed compression under its benchmark (150 s), where the
  scenario calls for T-CPR;
- `exclusion`: the `tcpr.not_given` reason matches the scenario (none, or e.g. `caller_refused`);
- `variant` / `language`: the instructions (`tcpr.started`) for the expected patient and in the
  caller's language, where the scenario expects one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from service.qi.audit import AuditDraft
from service.training.scenarios import Scenario

NEGATIVE: Final = frozenset({"no", "unsure"})
LABELS: Final = {
    "recognition": "Recognition under the benchmark",
    "breathing_verified": "Breathing verified",
    "script": "Script followed",
    "first_compression": "First compression under the benchmark",
    "exclusion": "Exclusion correct",
    "variant": "CPR instructions for the patient",
    "language": "Instructions in the caller's language",
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str

    @property
    def label(self) -> str:
        return LABELS[self.name]


@dataclass(frozen=True, slots=True)
class Score:
    scenario: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"


def _recognition(audit: AuditDraft) -> Check:
    limit = audit.profile.recognition_s
    at = audit.intervals.get("to_recognition")
    if not audit.recognized or at is None:
        return Check("recognition", False, f"not recognised (benchmark under {limit:.0f} s)")
    detail = f"recognised at {_s(at)} by {audit.recognition_path}; benchmark under {limit:.0f} s"
    if audit.recognition_after_arrival:
        detail += "; after EMS arrived"
    return Check("recognition", audit.benchmarks.recognition_met is True, detail)


def _breathing(audit: AuditDraft) -> Check:
    answers = audit.answers
    if audit.recognition_path == "direct":
        return Check("breathing_verified", True, "arrest declared directly")
    if answers.breathing in NEGATIVE:
        agonal = " (agonal breathing described)" if answers.breathing_agonal else ""
        return Check("breathing_verified", True, f"breathing normally: {answers.breathing}{agonal}")
    if audit.verify_breathing:
        why = "the caller's 'breathing' was never described: left to verify"
    elif answers.breathing == "yes" and answers.breathing_confirmed:
        why = "breathing confirmed normal, but the patient was in arrest"
    elif answers.breathing == "yes":
        why = "breathing taken as normal"
    else:
        why = "breathing never asked"
    return Check("breathing_verified", False, why)


def _asked_awake_first(audit: AuditDraft) -> bool:
    recognized = audit.timestamps.get("recognized")
    return recognized is not None and any(
        e.kind == "triage.conscious" and e.at <= recognized for e in audit.timeline
    )


def _script(scenario: Scenario, audit: AuditDraft) -> Check:
    path = audit.recognition_path
    if not audit.recognized:
        return Check("script", False, "arrest never recognised")
    if path == "question":
        return Check("script", True, "both questions answered before recognition")
    if path == "nature_code":
        return Check("script", False, "recognised only by the CAD nature code")
    if scenario.expect.volunteers_arrest:
        return Check("script", True, "declared directly: the caller said so at once")
    if _asked_awake_first(audit):
        return Check("script", True, "declared directly after asking if the patient was awake")
    return Check("script", False, "declared directly without asking the script questions")


def _first_compression(audit: AuditDraft) -> Check:
    limit = audit.profile.first_compression_s
    at = audit.intervals.get("to_first_compression")
    if at is None:
        if audit.tcpr.not_given_reason is not None:
            why = f"T-CPR recorded as not given ({audit.tcpr.not_given_reason})"
        elif not audit.tcpr.started:
            why = "instructions never started"
        else:
            why = "no first compression recorded"
        return Check("first_compression", False, f"{why}; benchmark under {limit:.0f} s")
    met = audit.benchmarks.first_compression_met is True
    return Check("first_compression", met, f"at {_s(at)}; benchmark under {limit:.0f} s")


def _exclusion(scenario: Scenario, audit: AuditDraft) -> Check:
    expected, reason = scenario.expect.exclusion, audit.tcpr.not_given_reason
    if expected is None:
        if reason is None:
            return Check("exclusion", True, "none: T-CPR was for this caller")
        return Check("exclusion", False, f"recorded {reason}; this caller could do CPR")
    if reason == expected and audit.tcpr.excluded:
        return Check("exclusion", True, f"recorded {reason}, as expected")
    got = f"recorded {reason}" if reason else "no exclusion recorded"
    return Check("exclusion", False, f"{got}; expected {expected}")


def _variant(expected: str, audit: AuditDraft) -> Check:
    if not audit.tcpr.started:
        return Check("variant", False, f"instructions never started; expected {expected}")
    got = audit.tcpr.variant or "not stated"
    return Check("variant", got == expected, f"{got}; expected {expected}")


def _language(expected: str, audit: AuditDraft) -> Check:
    if not audit.tcpr.started:
        return Check("language", False, f"instructions never started; expected {expected}")
    got = audit.tcpr.language
    primary = got.split("-")[0].lower() if got else None
    return Check("language", primary == expected, f"{got or 'not stated'}; expected {expected}")


def score(scenario: Scenario, audit: AuditDraft) -> Score:
    """The scenario's checks against the audit draft of its call."""
    checks = [_recognition(audit), _breathing(audit), _script(scenario, audit)]
    if scenario.expect.exclusion is None:
        checks.append(_first_compression(audit))
    checks.append(_exclusion(scenario, audit))
    if scenario.expect.variant:
        checks.append(_variant(scenario.expect.variant, audit))
    if scenario.expect.language:
        checks.append(_language(scenario.expect.language, audit))
    return Score(scenario.id, tuple(checks))
