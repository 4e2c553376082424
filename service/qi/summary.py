"""What the measures need of one call (DESIGN.md §5), judged once from its folded state, pure.

Every rule that decides how a call counts lives here, on the call, so the measures, the
breakdowns, the trends and the per-telecommunicator cards only add calls up (service.qi.measures)
and the store keeps the same judgements in columns (the `calls` projection) to add them up in SQL:

- the **population**: the latest `ems.outcome` says out-of-hospital cardiac arrest with
  resuscitation attempted and not witnessed by EMS (an arrest after EMS arrival is outside T-CPR);
- **telecommunicator recognition** is recognition before EMS arrives: one at or after the first
  `unit.on_scene` is the crew's and does not count (`recognition_after_arrival`);
- an **exclusion** from the T-CPR rate is a `tcpr.not_given` with no directed first compression;
  under the reviewed (AHA) rules only one the review in force does not reject, and for `other`
  only one it accepts ("other circumstances the supervisor deems valid");
- a call is **QI-reviewed** when its review in force is signed off;
- a reviewer's reasons are counted by code, with anything that is not one of the agency's codes
  (free text) under `other`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from contract.kinds import Kind
from service.qi.audit import DELAY_REASONS, NONRECOGNITION_REASONS, ems_flags
from service.qi.review import judged
from service.triage.call_state import CallState
from service.triage.intervals import intervals
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig

OTHER_REASON: Final = "other"
# DESIGN.md §5 breakdown `age_group`: (upper bound exclusive, label).
AGE_GROUPS: Final = ((18, "0–17"), (40, "18–39"), (65, "40–64"), (80, "65–79"))
OLDEST_AGE_GROUP: Final = "80+"
# NEMSIS eArrest.02 "Trauma" as the import words it, the code itself, or a client's own word.
TRAUMATIC_ETIOLOGIES: Final = frozenset({"trauma", "traumatic", "3002015"})


@dataclass(frozen=True, slots=True)
class CallSummary:
    """One call as the measures count it. `recognized` is telecommunicator recognition (before
    EMS arrived); the audit keeps showing any recognition with its time."""

    call_id: str
    t0: datetime | None
    t0_source: str | None = None
    in_population: bool = False
    has_ems_outcome: bool = False
    ems_says_not_arrest: bool = False
    ems_witnessed: bool = False
    resuscitation_attempted: bool | None = None
    recognized: bool = False
    recognition_after_arrival: bool = False
    to_recognition: float | None = None
    to_first_compression: float | None = None
    not_given_reason: str | None = None
    excluded: bool = False
    excluded_reviewed: bool = False
    exclusion_valid: bool | None = None
    reviewed: bool = False  # any review in force, signed off or a draft
    recognizable: bool | None = None
    signed_off: bool = False  # QI-reviewed, as the AHA counts
    telecommunicator: str | None = None
    nonrecognition_reasons: tuple[str, ...] = ()
    delay_reasons: tuple[str, ...] = ()
    # Breakdown dimensions.
    language: str | None = None
    protocol: str | None = None
    area: str | None = None
    age_group: str | None = None
    sex: str | None = None
    race: str | None = None


def age_group(age_years: object) -> str | None:
    if isinstance(age_years, bool) or not isinstance(age_years, int | float) or age_years < 0:
        return None
    for upper, label in AGE_GROUPS:
        if age_years < upper:
            return label
    return OLDEST_AGE_GROUP


def coded(reasons: Iterable[str], codes: tuple[str, ...]) -> tuple[str, ...]:
    """The distinct codes of a list of reasons, free text (anything not a code) as `other`."""
    return tuple(sorted({r if r in codes else OTHER_REASON for r in reasons}))


def is_traumatic(etiology: object) -> bool:
    return isinstance(etiology, str) and etiology.strip().lower() in TRAUMATIC_ETIOLOGIES


# The projection's columns hold a breakdown value in at most this many characters.
WORD_MAX: Final = 64


def _word(value: object) -> str | None:
    """A breakdown value as given, trimmed (the wire refuses longer; other paths are clipped)."""
    return value.strip()[:WORD_MAX] or None if isinstance(value, str) else None


def summarize(state: CallState, config: AgencyConfig = DEFAULT_CONFIG) -> CallSummary:
    iv = intervals(state, exact=True)  # judged exactly, everywhere (service.triage.intervals)
    in_population, not_arrest = ems_flags(state)
    ems = state.ems_outcome or {}
    review = judged(state.review)
    attempted = ems.get("resuscitation_attempted")
    t0_source = state.t0_source
    return CallSummary(
        call_id=state.call_id,
        t0=state.t0,
        t0_source=t0_source,
        in_population=in_population,
        has_ems_outcome=state.ems_outcome is not None,
        ems_says_not_arrest=not_arrest,
        ems_witnessed=ems.get("ems_witnessed") is True,
        resuscitation_attempted=attempted if isinstance(attempted, bool) else None,
        recognized=state.telecommunicator_recognized,
        recognition_after_arrival=state.recognition_after_arrival,
        to_recognition=iv["to_recognition"],
        to_first_compression=iv["to_first_compression"],
        not_given_reason=state.not_given_reason,
        excluded=state.excluded,
        excluded_reviewed=state.excluded_when_reviewed,
        exclusion_valid=state.exclusion_valid,
        reviewed=state.review is not None,
        recognizable=review.recognizable,
        signed_off=review.signed_off,
        telecommunicator=state.telecommunicator,
        nonrecognition_reasons=coded(
            review.nonrecognition_reasons,
            NONRECOGNITION_REASONS + config.extra_nonrecognition_reasons,
        ),
        delay_reasons=coded(review.delay_reasons, DELAY_REASONS + config.extra_delay_reasons),
        language=_word(state.tcpr_language),
        protocol=_word(state.tcpr_protocol),
        area=_word(state.area),
        age_group=age_group(ems.get("age_years")),
        sex=_word(ems.get("sex")),
        race=_word(ems.get("race")),
    )


def t0_fallback(source: str | None) -> bool:
    """Measured from the answer because the call has no `call.received`: ring and transfer time
    are lost from every interval."""
    return source == Kind.CALL_ANSWERED
