"""The audit draft of one call (DESIGN.md §5), a pure function of its state.

Suggested reasons follow the published T-CPR barrier studies (Lewis et al. 2013, Resuscitation
Academy QI toolkit): a transfer that takes more than 30 s, questions or address verification
before the two script questions, slow moving of the patient to the floor, and for
non-recognition the caller's description of agonal breathing as breathing or of signs of life.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contract.kinds import Kind
from contract.payloads import Nature
from service.qi.review import Determination, determination
from service.qi.timeline import TimelineEntry, timeline
from service.triage.call_state import CallState
from service.triage.intervals import (
    Benchmarks,
    benchmarks,
    dispatch_met,
    intervals,
    seconds_between,
)
from service.triage.profiles import BenchmarkProfile

NONRECOGNITION_REASONS: Final = (
    "agonal_breathing_reported_as_breathing",
    "signs_of_life_reported",
    "seizure_like_activity",
    "caller_not_with_patient",
    "language_barrier",
    "protocol_deviation",
)
DELAY_REASONS: Final = (
    "unnecessary_questions",
    "address_verification",
    "call_transfer",
    "moving_patient_to_floor",
    "caller_distress",
    "speakerphone_problem",
    "language_barrier",
    "protocol_deviation",
)
# The draft's key timestamps: name -> the event kind whose (corrected) time it shows, which is
# also the key a `qi.review` correction of it uses.
TIMESTAMPS: Final = {
    "call_received": Kind.CALL_RECEIVED,
    "call_transferred": Kind.CALL_TRANSFERRED,
    "call_answered": Kind.CALL_ANSWERED,
    "recognized": Kind.OHCA_RECOGNIZED,
    "tcpr_started": Kind.TCPR_STARTED,
    "first_compression": Kind.TCPR_FIRST_COMPRESSION,
    "unit_dispatched": Kind.UNIT_DISPATCHED,
    "unit_on_scene": Kind.UNIT_ON_SCENE,
    "call_ended": Kind.CALL_ENDED,
}
TRANSFER_SUGGESTION_S: Final = 30.0
FIRST_QUESTION_SUGGESTION_S: Final = 30.0
TO_FLOOR_SUGGESTION_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Suggestion:
    reason: str
    why: str


def ems_flags(state: CallState) -> tuple[bool, bool]:
    """(in the AHA population, EMS said it was not an arrest) from the latest `ems.outcome`."""
    ems = state.ems_outcome
    if ems is None:
        return False, False
    ohca = ems.get("ohca") is True
    in_population = (
        ohca and ems.get("resuscitation_attempted") is True and ems.get("ems_witnessed") is not True
    )
    return in_population, ems.get("ohca") is False


def suggestions(state: CallState) -> list[Suggestion]:
    """Reasons a reviewer will probably want to look at first. Hints only; the reviewer decides."""
    out: list[Suggestion] = []
    t0 = state.t0
    transfer = seconds_between(t0, state.corrected(Kind.CALL_ANSWERED))
    if (
        state.transferred_at is not None
        and transfer is not None
        and transfer > TRANSFER_SUGGESTION_S
    ):
        out.append(Suggestion("call_transfer", f"answered {transfer:.0f} s after connection"))
    first_question = next(
        (e.at for e in state.events if e.kind in (Kind.TRIAGE_CONSCIOUS, Kind.TRIAGE_BREATHING)),
        None,
    )
    answered = state.corrected(Kind.CALL_ANSWERED) or t0
    gap = seconds_between(answered, first_question)
    if gap is not None and gap > FIRST_QUESTION_SUGGESTION_S:
        out.append(
            Suggestion(
                "address_verification",
                f"first script question answered {gap:.0f} s after the call was answered",
            )
        )
    to_floor = seconds_between(
        state.corrected(Kind.TCPR_STARTED), state.corrected(Kind.TCPR_FIRST_COMPRESSION)
    )
    if to_floor is not None and to_floor > TO_FLOOR_SUGGESTION_S:
        out.append(
            Suggestion(
                "moving_patient_to_floor",
                f"first compression {to_floor:.0f} s after T-CPR instructions began",
            )
        )
    in_population, _ = ems_flags(state)
    if in_population and not state.telecommunicator_recognized:
        if state.breathing == "yes":
            out.append(
                Suggestion(
                    "agonal_breathing_reported_as_breathing",
                    "EMS confirmed arrest but the caller said the patient was breathing",
                )
            )
        if state.conscious == "yes":
            out.append(
                Suggestion(
                    "signs_of_life_reported",
                    "EMS confirmed arrest but the caller said the patient was awake",
                )
            )
    return out


def _time_of(state: CallState, kind: str) -> datetime | None:
    # Recognition has several paths; a correction of it wins whatever the path.
    return state.recognized_at if kind == Kind.OHCA_RECOGNIZED else state.corrected(kind)


@dataclass(frozen=True, slots=True)
class Answers:
    """The two script questions as the caller last answered them."""

    conscious: str | None
    breathing: str | None
    breathing_confirmed: bool
    breathing_agonal: bool


@dataclass(frozen=True, slots=True)
class TcprRecord:
    """Whether T-CPR was given, how, and whether its absence is excluded from the rate."""

    started: bool
    # The signed instruction set and the language the caller was coached in.
    variant: str | None
    language: str | None
    protocol: str | None
    first_compression: bool
    not_given_reason: str | None
    not_given_note: str | None
    # Out of the T-CPR rate: not given and no directed first compression (§5), and whether the
    # reviewed (AHA) measures accept that exclusion.
    excluded: bool
    exclusion_valid: bool | None
    excluded_when_reviewed: bool


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """One call's audit draft (DESIGN.md §5), judged against `profile`."""

    agency: str
    call_id: str
    profile: BenchmarkProfile
    t0: datetime | None
    t0_source: str | None
    # TIMESTAMPS name -> its (corrected) time.
    timestamps: Mapping[str, datetime | None]
    # Event kind -> the reviewer's time for it, and the time it replaced.
    corrections: Mapping[str, datetime]
    original_times: Mapping[str, datetime | None]
    intervals: Mapping[str, float | None]
    benchmarks: Benchmarks
    # Dispatch in parallel, to the recognition standard (§4): None where nothing called for a
    # dispatch (no `no` / `unsure` answer, not recognised).
    dispatch_met: bool | None
    recognized: bool
    recognition_path: str | None
    recognition_after_arrival: bool
    answers: Answers
    verify_breathing: bool
    in_scope: bool
    nature: Nature
    telecommunicator: str | None
    psap: str | None
    units: tuple[str, ...]
    tcpr: TcprRecord
    alerts: tuple[str, ...]
    live: bool
    ems_outcome: Mapping[str, Any] | None  # as EMS sent it
    in_population: bool
    over_triage: bool
    suggested_reasons: tuple[Suggestion, ...]
    review: Mapping[str, Any] | None  # the review in force as the reviewer sent it
    determination: Determination
    timeline: tuple[TimelineEntry, ...]
    event_count: int

    @property
    def reviewed(self) -> bool:
        return self.review is not None

    @property
    def signed_off(self) -> bool:
        """QI-reviewed as the AHA counts it: the review in force is signed off."""
        return self.review is not None and self.review.get("signed_off") is True


def draft(state: CallState, profile: BenchmarkProfile) -> AuditDraft:
    """The audit draft; refreshed from scratch whenever events change."""
    in_population, over_triage = ems_flags(state)
    originals = {kind: state.original(kind) for kind in state.corrections}
    if Kind.CALL_RECEIVED in state.corrections:  # what a T0 correction replaced: the T0 as reported
        originals[Kind.CALL_RECEIVED] = state.received_at or state.answered_at
    return AuditDraft(
        agency=state.agency,
        call_id=state.call_id,
        profile=profile,
        t0=state.t0,
        t0_source=state.t0_source,
        timestamps={name: _time_of(state, kind) for name, kind in TIMESTAMPS.items()},
        corrections=dict(state.corrections),
        original_times=originals,
        intervals=intervals(state),
        benchmarks=benchmarks(state, profile),
        dispatch_met=dispatch_met(state, profile),
        recognized=state.recognized,
        recognition_path=state.path,
        recognition_after_arrival=state.recognition_after_arrival,
        answers=Answers(
            conscious=state.conscious,
            breathing=state.breathing,
            breathing_confirmed=state.breathing_confirmed,
            breathing_agonal=state.breathing_agonal,
        ),
        verify_breathing=state.verify_breathing,
        in_scope=state.in_scope,
        nature=Nature(code=state.nature_code, text=state.nature_text),
        telecommunicator=state.telecommunicator,
        psap=state.psap,
        units=state.units,
        tcpr=TcprRecord(
            started=state.tcpr_started_at is not None,
            variant=state.tcpr_variant,
            language=state.tcpr_language,
            protocol=state.tcpr_protocol,
            first_compression=state.first_compression_at is not None,
            not_given_reason=state.not_given_reason,
            not_given_note=state.not_given_note,
            excluded=state.excluded,
            exclusion_valid=state.exclusion_valid,
            excluded_when_reviewed=state.excluded_when_reviewed,
        ),
        alerts=state.alerts,
        live=state.live,
        ems_outcome=state.ems_outcome,
        in_population=in_population,
        over_triage=state.telecommunicator_recognized and over_triage,
        suggested_reasons=tuple(suggestions(state)),
        review=state.review,
        determination=determination(state),
        timeline=timeline(state),
        event_count=len(state.events),
    )
