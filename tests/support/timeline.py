"""Small builders for hand-computed golden timelines of one call.

A `Timeline` is anchored at a reference instant `ref` (usually the call's `call.received`); every
event is placed `seconds` after it and may be written in any UTC offset, so a test reads as
"conscious: no at +20 s (written in +02:00)". Event ids are deterministic (`<call>-<n>`) and each
event gets its own arrival number unless the test sets one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC as UTC
from datetime import datetime, timedelta, timezone
from typing import Any

from contract.event import Event
from service.triage.call_state import CallState
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig
from service.triage.state import fold

EST = timezone(timedelta(hours=-5))  # -05:00
CEST = timezone(timedelta(hours=2))  # +02:00
IST = timezone(timedelta(hours=5, minutes=30))  # +05:30
NST = timezone(timedelta(hours=-3, minutes=-30))  # -03:30

# 2024-03-01 10:00:00 -05:00 == 15:00:00Z == 17:00:00+02:00
When = float | datetime  # seconds after the reference, or an exact aware time

REF = datetime(2024, 3, 1, 10, 0, 0, tzinfo=EST)


def at(ref: datetime, seconds: float, tz: timezone | None = None) -> datetime:
    """`ref` + `seconds`, written in `tz` (the same instant whatever the offset)."""
    t = ref + timedelta(seconds=seconds)
    return t.astimezone(tz) if tz is not None else t


@dataclass
class Timeline:
    ref: datetime = REF
    call_id: str = "C1"
    agency: str = "PSAP1"
    events: list[Event] = field(default_factory=list)

    # -- generic ------------------------------------------------------------------------------
    def t(self, seconds: When, tz: timezone | None = None) -> datetime:
        """`ref` + `seconds` in `tz`; an aware datetime is used as is (`tz` ignored)."""
        if isinstance(seconds, datetime):
            return seconds
        return at(self.ref, seconds, tz)

    def add(
        self,
        kind: str,
        seconds: When,
        *,
        tz: timezone | None = None,
        data: Mapping[str, Any] | None = None,
        actor: str | None = None,
        source: str = "cad",
        event_id: str | None = None,
        arrival: int | None = None,
    ) -> Event:
        n = len(self.events) + 1
        e = Event(
            event_id=event_id or f"{self.call_id}-{n}",
            call_id=self.call_id,
            agency=self.agency,
            kind=kind,
            at=self.t(seconds, tz),
            source=source,
            actor=actor,
            data=dict(data or {}),
            arrival=n if arrival is None else arrival,
        )
        self.events.append(e)
        return e

    def fold(
        self, config: AgencyConfig = DEFAULT_CONFIG, events: Iterable[Event] | None = None
    ) -> CallState:
        return fold(self.agency, self.call_id, self.events if events is None else events, config)

    # -- one helper per kind ------------------------------------------------------------------
    def received(self, s: When, tz: timezone | None = None, psap: str = "PSAP-A") -> Event:
        return self.add("call.received", s, tz=tz, data={"psap": psap})

    def transferred(self, s: When, tz: timezone | None = None, to: str = "EMS") -> Event:
        return self.add("call.transferred", s, tz=tz, data={"to": to})

    def answered(self, s: When, tz: timezone | None = None, actor: str = "tc1") -> Event:
        return self.add("call.answered", s, tz=tz, actor=actor)

    def nature(self, s: When, code: str | None, tz: timezone | None = None) -> Event:
        return self.add("call.nature", s, tz=tz, data={"code": code, "text": "nature"})

    def conscious(self, s: When, answer: str, tz: timezone | None = None) -> Event:
        return self.add("triage.conscious", s, tz=tz, data={"answer": answer}, source="console")

    def breathing(self, s: When, answer: str, tz: timezone | None = None) -> Event:
        return self.add("triage.breathing", s, tz=tz, data={"answer": answer}, source="console")

    def recognized(self, s: When, tz: timezone | None = None) -> Event:
        return self.add("ohca.recognized", s, tz=tz, source="console")

    def tcpr_started(self, s: When, tz: timezone | None = None) -> Event:
        return self.add("tcpr.started", s, tz=tz, source="console")

    def first_compression(self, s: When, tz: timezone | None = None) -> Event:
        return self.add("tcpr.first_compression", s, tz=tz, source="console")

    def not_given(
        self, s: When, reason: str = "cpr_in_progress", tz: timezone | None = None
    ) -> Event:
        return self.add("tcpr.not_given", s, tz=tz, data={"reason": reason}, source="console")

    def dispatched(self, s: When, tz: timezone | None = None, unit: str = "M1") -> Event:
        return self.add("unit.dispatched", s, tz=tz, data={"unit": unit})

    def on_scene(self, s: When, tz: timezone | None = None, unit: str = "M1") -> Event:
        return self.add("unit.on_scene", s, tz=tz, data={"unit": unit})

    def ended(self, s: When, tz: timezone | None = None) -> Event:
        return self.add("call.ended", s, tz=tz)

    def outcome(
        self,
        s: When,
        *,
        ohca: bool = True,
        attempted: bool = True,
        witnessed: bool = False,
        tz: timezone | None = None,
    ) -> Event:
        data = {"ohca": ohca, "resuscitation_attempted": attempted, "ems_witnessed": witnessed}
        return self.add("ems.outcome", s, tz=tz, data=data, source="ems")

    def review(self, s: When, tz: timezone | None = None, **data: Any) -> Event:
        return self.add("qi.review", s, tz=tz, data=data, source="qi", actor="qi1")

    def alert(self, s: When, name: str, tz: timezone | None = None) -> Event:
        return self.add("alert.raised", s, tz=tz, data={"alert": name}, source="system")


def population_call(
    call_id: str,
    *,
    to_recognition: float | None = None,
    to_first_compression: float | None = None,
    not_given: str | None = None,
    outcome: Mapping[str, bool] | None = None,
    review: Mapping[str, Any] | None = None,
    ref: datetime = REF,
) -> Timeline:
    """A call received at `ref`, directly recognised at +to_recognition, with an EMS outcome."""
    tl = Timeline(ref=ref, call_id=call_id)
    tl.received(0)
    tl.answered(5)
    if to_recognition is not None:
        tl.recognized(to_recognition)
    if to_first_compression is not None:
        tl.tcpr_started(max(0.0, to_first_compression - 10))
        tl.first_compression(to_first_compression)
    if not_given is not None:
        tl.not_given(200, reason=not_given)
    tl.ended(600)
    o = {"ohca": True, "attempted": True, "witnessed": False, **(outcome or {})}
    tl.outcome(3600, ohca=o["ohca"], attempted=o["attempted"], witnessed=o["witnessed"])
    if review is not None:
        tl.review(7200, **review)
    return tl
