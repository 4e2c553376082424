"""One call's state (what the panels, the alert schedule and the audit read) and the views
derived from it: the QI-corrected times, T0 and its source, recognition as the measures count it,
the exclusion under the AHA's reviewed rules, and where the call stands in the script (`phase`).
It is built only by the fold in state.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from contract.event import Event
from contract.kinds import Kind
from contract.payloads import Review

if TYPE_CHECKING:
    from service.triage.state import _Tally

NEGATIVE: Final = frozenset({"no", "unsure"})
# Which first-occurrence time each `qi.review` correction key replaces.
CORRECTABLE: Final = (
    Kind.CALL_RECEIVED,
    Kind.CALL_TRANSFERRED,
    Kind.CALL_ANSWERED,
    Kind.OHCA_RECOGNIZED,
    Kind.TCPR_STARTED,
    Kind.TCPR_FIRST_COMPRESSION,
    Kind.UNIT_DISPATCHED,
    Kind.UNIT_ON_SCENE,
    Kind.CALL_ENDED,
)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CallState:
    """Everything the panels, the alert schedule and the audit need to know about one call."""

    agency: str
    call_id: str
    events: tuple[Event, ...] = ()
    # Source-clock times as reported (first occurrence of each kind).
    received_at: datetime | None = None
    transferred_at: datetime | None = None
    answered_at: datetime | None = None
    tcpr_started_at: datetime | None = None
    first_compression_at: datetime | None = None
    dispatched_at: datetime | None = None
    on_scene_at: datetime | None = None
    ended_at: datetime | None = None
    # Recognition as the events report it, before QI corrections (`recognized_at` is the time
    # the measures use).
    recognition_reported_at: datetime | None = None
    recognition_path: str | None = None
    conscious: str | None = None
    breathing: str | None = None
    # The latest breathing answer's detail: described and confirmed normal, or agonal.
    breathing_confirmed: bool = False
    breathing_agonal: bool = False
    ruled_out: bool = False
    # "Not awake" with "yes, breathing" not yet confirmed: the agonal-breathing trap (§3).
    verify_breathing: bool = False
    # A `no` / `unsure` to either question at any time (dispatch in parallel, §4).
    negative_answer: bool = False
    # Alerts apply to this call (the agency's `alert_scope`, §4).
    in_scope: bool = True
    nature_code: str | None = None
    nature_text: str | None = None
    telecommunicator: str | None = None
    psap: str | None = None
    area: str | None = None  # the agency's own area code of the location (call.received)
    tcpr_variant: str | None = None  # adult / child / infant (tcpr.started)
    tcpr_language: str | None = None
    tcpr_protocol: str | None = None  # the signed instruction set's id@version
    transferred_to: str | None = None
    not_given_reason: str | None = None
    not_given_note: str | None = None
    units: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    ems_outcome: Mapping[str, Any] | None = None
    # The `qi.review` in force: its data as sent (for the audit) and its typed view.
    review: Mapping[str, Any] | None = None
    review_in_force: Review | None = None
    corrections: Mapping[str, datetime] = field(default_factory=lambda: _EMPTY)
    # What the fold kept, so `step` can go on from it; not part of the state's value.
    # The fold's running totals this state was finished from (state.py), for `step`.
    _tally: _Tally | None = field(default=None, init=False, repr=False, compare=False)

    # -- corrected view: what intervals and audits use -------------------------------------
    def corrected(self, kind: str) -> datetime | None:
        """The time of `kind` with the latest QI correction applied."""
        if kind in self.corrections:
            return self.corrections[kind]
        return self.original(kind)

    def original(self, kind: str) -> datetime | None:
        """The first time of `kind` as the events reported it, before any correction."""
        reported: dict[str, datetime | None] = {
            Kind.CALL_RECEIVED: self.received_at,
            Kind.CALL_TRANSFERRED: self.transferred_at,
            Kind.CALL_ANSWERED: self.answered_at,
            Kind.OHCA_RECOGNIZED: self.recognition_reported_at,
            Kind.TCPR_STARTED: self.tcpr_started_at,
            Kind.TCPR_FIRST_COMPRESSION: self.first_compression_at,
            Kind.UNIT_DISPATCHED: self.dispatched_at,
            Kind.UNIT_ON_SCENE: self.on_scene_at,
            Kind.CALL_ENDED: self.ended_at,
        }
        return reported.get(kind)

    @property
    def t0(self) -> datetime | None:
        """The clock's zero: earliest `call.received`, else earliest `call.answered`."""
        if self.received_at is not None or Kind.CALL_RECEIVED in self.corrections:
            return self.corrected(Kind.CALL_RECEIVED)
        return self.corrected(Kind.CALL_ANSWERED)

    @property
    def t0_source(self) -> str | None:
        """Where T0 comes from: a reviewer's `call.received` correction, the earliest
        `call.received`, or (a call that has none) the earliest `call.answered`, which loses the
        ring and transfer time the AHA interval includes."""
        if Kind.CALL_RECEIVED in self.corrections:
            return "correction"
        if self.received_at is not None:
            return Kind.CALL_RECEIVED
        return Kind.CALL_ANSWERED if self.t0 is not None else None

    @property
    def recognized_at(self) -> datetime | None:
        """When the call was recognised, with the latest QI correction applied: the time the
        intervals, measures and panels use."""
        return self.corrected(Kind.OHCA_RECOGNIZED)

    @property
    def recognition_after_arrival(self) -> bool:
        """Recognised at or after the first EMS unit arrived: the crew's recognition, not the
        telecommunicator's, so the measures do not count it (DESIGN.md §5)."""
        recognized, on_scene = self.recognized_at, self.corrected(Kind.UNIT_ON_SCENE)
        return recognized is not None and on_scene is not None and recognized >= on_scene

    @property
    def telecommunicator_recognized(self) -> bool:
        """Recognition as the measures count it: before EMS arrived."""
        return self.recognized and not self.recognition_after_arrival

    @property
    def excluded(self) -> bool:
        """Out of the T-CPR rate's denominator: T-CPR was not given (`tcpr.not_given`) and no
        directed first compression happened. A "not given" after a first compression (the
        caller hung up at 200 s) is not an exclusion: the compression was given."""
        return (
            self.not_given_reason is not None
            and self.corrected(Kind.TCPR_FIRST_COMPRESSION) is None
        )

    @property
    def dispatch_called_for(self) -> bool:
        """Dispatch in parallel (§4): a `no` / `unsure` to either question, or a recognition."""
        return self.negative_answer or self.recognized

    @property
    def exclusion_valid(self) -> bool | None:
        """The reviewer's judgement of the exclusion (`qi.review` `exclusion_valid`), if any."""
        return self.review_in_force.exclusion_valid if self.review_in_force else None

    @property
    def excluded_when_reviewed(self) -> bool:
        """The exclusion under the AHA's reviewed rules: not rejected by the review in force,
        and one for `other` only when the review accepts it ("other circumstances the
        supervisor deems valid")."""
        if not self.excluded or self.exclusion_valid is False:
            return False
        return self.not_given_reason != "other" or self.exclusion_valid is True

    @property
    def path(self) -> str | None:
        """How recognition happened; a reviewer's correction alone counts as direct."""
        if self.recognition_path is None and self.recognized_at is not None:
            return "direct"
        return self.recognition_path

    @property
    def recognized(self) -> bool:
        return self.recognized_at is not None

    @property
    def live(self) -> bool:
        return self.ended_at is None and self.t0 is not None

    @property
    def tcpr_not_given(self) -> bool:
        return self.not_given_reason is not None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def corrections_of(review: Review | None) -> Mapping[str, datetime]:
    if review is None:
        return _EMPTY
    parsed = {kind: _parse_time(v) for kind, v in review.corrections.items() if kind in CORRECTABLE}
    return MappingProxyType({kind: t for kind, t in parsed.items() if t is not None})


def phase(state: CallState) -> str:
    """Where the call stands in the script, for the panel's big card."""
    if state.ended_at is not None:
        return "ended"
    if state.recognized:
        if state.excluded:
            return "tcpr_not_given"
        if state.first_compression_at is not None:
            return "compressions"
        if state.tcpr_started_at is not None:
            return "tcpr_instructions"
        return "recognized"
    if state.verify_breathing:
        return "verify_breathing"
    if state.ruled_out:
        return "ruled_out"
    if state.conscious is None:
        return "ask_conscious"
    if state.breathing is None:
        return "ask_breathing"
    return "triage"
