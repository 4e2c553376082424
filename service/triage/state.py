"""A call's state as a pure fold of its events (DESIGN.md §2, §3, §4).

Recognition (AHA T-CPR script, DESIGN.md §3) happens at the earliest of:
- a direct `ohca.recognized` declaration;
- the first moment at which the latest answer to both "conscious?" and "breathing normally?" is
  `no` or `unsure` ("unsure" counts as "no"), timed by the answer that completes the pair;
- a `call.nature` whose code the agency configured as cardiac arrest (MPDS 9-E / 9-D).
A `yes` to "conscious?" rules arrest out for now, and so does a `yes` to "breathing normally?"
while consciousness is unknown or once the breathing was described and confirmed normal. A
"not awake" with an unconfirmed "yes, breathing" is **breathing to verify**: the agonal-breathing
trap behind most missed arrests, so the recognition alerts keep running. A later `no` re-opens
recognition whatever ruled it out.

Events are folded in chronological order (source time, then arrival), so any arrival order of the
same events gives the same state. Corrections from the latest `qi.review` win over the original
times, and the originals stay available beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from contract.event import Event, chronological
from contract.kinds import ANSWERS, CONSOLE_KINDS, Kind
from contract.payloads import (
    AlertRaised,
    Answer,
    EmsOutcome,
    Nature,
    NotGiven,
    Received,
    Review,
    TcprStarted,
    Transferred,
    Unit,
)
from service.triage.call_state import NEGATIVE, CallState, corrections_of
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig


def _distinct(ordered: Iterable[Event]) -> tuple[Event, ...]:
    """Drop repeated deliveries of an id (the store already refused any with other content)."""
    seen: set[str] = set()
    out = []
    for e in ordered:
        if e.event_id not in seen:
            seen.add(e.event_id)
            out.append(e)
    return tuple(out)


def _first(values: dict[str, Any], key: str, value: object) -> None:
    """Keep the first non-empty string given for `key`."""
    if values.get(key) is None and isinstance(value, str) and value:
        values[key] = value


def _note_actor(values: dict[str, Any], e: Event) -> None:
    if e.actor:
        values.setdefault("telecommunicator", e.actor)


@dataclass(slots=True)
class _Tally:
    """What the fold keeps between events. Built by `fold`, then never changed: `step` adds an
    event to a copy, so every state keeps the tally it was finished from."""

    config: AgencyConfig
    events: tuple[Event, ...] = ()  # distinct, in chronological order
    ids: frozenset[str] = frozenset()
    firsts: dict[str, datetime] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)
    breathing_detail: tuple[bool, bool] = (False, False)  # (confirmed, agonal) of the latest
    negative: bool = False
    medical: bool = False
    console: bool = False
    recognized_at: datetime | None = None
    path: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def grown(self, e: Event) -> _Tally:
        """A copy with `e` appended to the events, not yet added to the facts."""
        return _Tally(
            self.config,
            (*self.events, e),
            self.ids | {e.event_id},
            dict(self.firsts),
            dict(self.latest),
            self.breathing_detail,
            self.negative,
            self.medical,
            self.console,
            self.recognized_at,
            self.path,
            dict(self.values),
            list(self.units),
            list(self.alerts),
        )


def _add(t: _Tally, e: Event) -> None:
    """Add one event, the latest so far in chronological order, to the tally."""
    t.firsts.setdefault(e.kind, e.at)
    t.console = t.console or e.kind in CONSOLE_KINDS
    values = t.values
    match e.kind, e.payload:
        case (Kind.TRIAGE_CONSCIOUS | Kind.TRIAGE_BREATHING, Answer() as p):
            if p.answer in ANSWERS:
                t.latest[e.kind] = p.answer
                t.negative = t.negative or p.answer in NEGATIVE
                if e.kind == Kind.TRIAGE_BREATHING:
                    t.breathing_detail = (p.answer == "yes" and p.confirmed, p.agonal)
                both = (t.latest.get(Kind.TRIAGE_CONSCIOUS), t.latest.get(Kind.TRIAGE_BREATHING))
                if t.recognized_at is None and all(a in NEGATIVE for a in both):
                    t.recognized_at, t.path = e.at, "question"
            _note_actor(values, e)
        case (Kind.OHCA_RECOGNIZED, _):
            if t.recognized_at is None:
                t.recognized_at, t.path = e.at, "direct"
            _note_actor(values, e)
        case (_, Nature() as p):
            values["nature_code"] = p.code
            values["nature_text"] = p.text
            t.medical = t.medical or t.config.is_medical_nature(p.code)
            if t.recognized_at is None and t.config.is_arrest_nature(p.code):
                t.recognized_at, t.path = e.at, "nature_code"
        case (Kind.CALL_ANSWERED, _):
            if e.actor:
                values.setdefault("answered_by", e.actor)
        case (_, Received() as p):
            values.setdefault("psap", p.psap)
            _first(values, "area", p.area)
        case (_, Transferred() as p):
            values.setdefault("transferred_to", p.to)
        case (_, NotGiven() as p):
            values.setdefault("not_given_reason", p.reason or "other")
            values.setdefault("not_given_note", p.note)
        case (_, TcprStarted() as p):
            _first(values, "tcpr_variant", p.variant)
            _first(values, "tcpr_language", p.language)
            _first(values, "tcpr_protocol", p.protocol)
            _note_actor(values, e)
        case (Kind.TCPR_FIRST_COMPRESSION, _):
            _note_actor(values, e)
        case (Kind.UNIT_DISPATCHED, Unit(unit=str() as unit)):
            if unit not in t.units:
                t.units.append(unit)
        case (_, AlertRaised(alert=str() as alert)):
            if alert not in t.alerts:
                t.alerts.append(alert)
        case (_, EmsOutcome()):
            values["ems_outcome"] = MappingProxyType(dict(e.data))
        case (_, Review() as p):
            # The review in force is the latest, as a whole (service.qi.review).
            values["review"] = MappingProxyType(dict(e.data))
            values["review_in_force"] = p


def _finish(agency: str, call_id: str, t: _Tally) -> CallState:
    """The call's state from a tally of all its events."""
    conscious = t.latest.get(Kind.TRIAGE_CONSCIOUS)
    breathing = t.latest.get(Kind.TRIAGE_BREATHING)
    confirmed, agonal = t.breathing_detail
    open_ = t.recognized_at is None
    # §3: breathing `yes` rules arrest out only when confirmed, or while consciousness is unknown.
    verify = open_ and conscious in NEGATIVE and breathing == "yes" and not confirmed
    ruled_out = open_ and (
        conscious == "yes" or (breathing == "yes" and (conscious is None or confirmed))
    )
    firsts, values = t.firsts, t.values
    review_in_force = values.get("review_in_force")
    state = CallState(
        agency=agency,
        call_id=call_id,
        events=t.events,
        received_at=firsts.get(Kind.CALL_RECEIVED),
        transferred_at=firsts.get(Kind.CALL_TRANSFERRED),
        answered_at=firsts.get(Kind.CALL_ANSWERED),
        tcpr_started_at=firsts.get(Kind.TCPR_STARTED),
        first_compression_at=firsts.get(Kind.TCPR_FIRST_COMPRESSION),
        dispatched_at=firsts.get(Kind.UNIT_DISPATCHED),
        on_scene_at=firsts.get(Kind.UNIT_ON_SCENE),
        ended_at=firsts.get(Kind.CALL_ENDED),
        recognition_reported_at=t.recognized_at,
        recognition_path=t.path,
        conscious=conscious,
        breathing=breathing,
        breathing_confirmed=confirmed,
        breathing_agonal=agonal,
        ruled_out=ruled_out,
        verify_breathing=verify,
        negative_answer=t.negative,
        in_scope=t.config.alert_scope != "medical" or t.medical or t.console,
        nature_code=values.get("nature_code"),
        nature_text=values.get("nature_text"),
        telecommunicator=values.get("answered_by") or values.get("telecommunicator"),
        psap=values.get("psap"),
        area=values.get("area"),
        tcpr_variant=values.get("tcpr_variant"),
        tcpr_language=values.get("tcpr_language"),
        tcpr_protocol=values.get("tcpr_protocol"),
        transferred_to=values.get("transferred_to"),
        not_given_reason=values.get("not_given_reason"),
        not_given_note=values.get("not_given_note"),
        units=tuple(t.units),
        alerts=tuple(t.alerts),
        ems_outcome=values.get("ems_outcome"),
        review=values.get("review"),
        review_in_force=review_in_force,
        corrections=corrections_of(review_in_force),
    )
    object.__setattr__(state, "_tally", t)
    return state


def fold(
    agency: str, call_id: str, events: Iterable[Event], config: AgencyConfig = DEFAULT_CONFIG
) -> CallState:
    """Fold a call's events, in any arrival order, into its state. Pure and total."""
    ordered = _distinct(chronological(events))
    tally = _Tally(config, ordered, frozenset(e.event_id for e in ordered))
    for e in ordered:
        _add(tally, e)
    return _finish(agency, call_id, tally)


def _order(e: Event) -> tuple[datetime, int, str]:
    """`chronological`'s key."""
    return (e.at, e.arrival, e.event_id)


def step(state: CallState, event: Event, config: AgencyConfig = DEFAULT_CONFIG) -> CallState:
    """The state with one more event, equal to folding all of them again.

    An event that sorts after every event of the call (the usual case) is added to a copy of the
    tally the state was finished from, at a cost that does not grow with the call. A late,
    out-of-order event, a repeated id (a repeat that sorts earlier changes which copy is kept),
    another agency configuration, or a state built by hand is folded again with every event,
    which lands it in its place."""
    t = state._tally
    if (
        t is None
        or (t.config is not config and t.config != config)
        or event.event_id in t.ids
        or (t.events and _order(event) < _order(t.events[-1]))
    ):
        return fold(state.agency, state.call_id, (*state.events, event), config)
    grown = t.grown(event)
    _add(grown, event)
    return _finish(state.agency, state.call_id, grown)
