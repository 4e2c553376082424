"""A year of past calls for the demo agency, so the QI pages have audits, charts and cards to show
on a fresh `tcpr serve --demo`.

The figures are drawn to resemble the published T-CPR programme results (Lewis et al. 2013;
King County and Resuscitation Academy reports; AHA 2020 T-CPR statement): about four in five
EMS-confirmed arrests recognised, median recognition a little over a minute, median first
compression around two and a half minutes, about one in ten callers unable or unwilling to do
CPR, transfers adding 20-60 s to a minority of calls, agonal breathing as the main reason an arrest
goes unrecognised, and some recognised calls that EMS found were not arrests (over-triage).
Pure and seeded: the same `end` and seed give the same canonical event records, with event ids
that make a second seeding a no-op (duplicates are harmless by the contract).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Final

Record = dict[str, Any]

AGENCY: Final = "DEMO"
ZONE: Final = timezone(timedelta(hours=-5))  # the demo centre writes its times in -05:00
TELECOMMUNICATORS: Final = ("tc-114", "tc-207", "tc-311", "tc-402", "tc-518", "tc-623")
# Individual skill: each telecommunicator's recognition-time factor and recognition chance.
SKILL: Final = {
    "tc-114": (0.80, 0.92),
    "tc-207": (1.00, 0.85),
    "tc-311": (1.25, 0.72),
    "tc-402": (0.90, 0.88),
    "tc-518": (1.10, 0.80),
    "tc-623": (1.40, 0.65),
}
NOT_GIVEN: Final = (
    ("cpr_in_progress", 0.35),
    ("caller_unable", 0.25),
    ("caller_refused", 0.15),
    ("cannot_position", 0.10),
    ("hung_up", 0.10),
    ("unsafe", 0.05),
)


def _lognormal(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0.0, spread))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


class _Call:
    """Builds one call's records at offsets from its T0."""

    def __init__(self, call_id: str, t0: datetime) -> None:
        self.call_id, self.t0 = call_id, t0
        self.records: list[Record] = []

    def add(self, kind: str, seconds: float, *, source: str = "cad", **fields: Any) -> None:
        when = (self.t0 + timedelta(seconds=round(seconds, 1))).astimezone(ZONE)
        self.records.append(
            {
                "event_id": f"{self.call_id}-{len(self.records) + 1:02d}",
                "call_id": self.call_id,
                "agency": AGENCY,
                "kind": kind,
                "at": when.isoformat(),
                "source": source,
                **fields,
            }
        )


def _one_call(rng: random.Random, call_id: str, t0: datetime, reviewed: bool) -> list[Record]:
    call = _Call(call_id, t0)
    tc = rng.choice(TELECOMMUNICATORS)
    speed, chance = SKILL[tc]
    call.add("call.received", 0, data={"psap": "DEMO-PSAP"})
    answered = rng.uniform(4, 14)
    if rng.random() < 0.2:  # answered at a primary PSAP and transferred to EMS dispatch
        call.add("call.transferred", answered, data={"to": "DEMO-EMS"})
        answered += rng.uniform(15, 60)
    call.add("call.answered", answered, actor=tc)
    call.add("unit.dispatched", answered + rng.uniform(25, 60), data={"unit": "M12"})

    kind_of_call = rng.random()
    arrest = kind_of_call < 0.88  # the rest: EMS finds no arrest (syncope, seizure...)
    ems_witnessed = arrest and kind_of_call < 0.05
    recognized = rng.random() < (chance if arrest else 0.6)
    agonal = arrest and not recognized and rng.random() < 0.7
    # Address and call-back number come first; the two questions follow.
    conscious_at = answered + _lognormal(rng, 42, 0.35) * speed
    breathing_at = conscious_at + _lognormal(rng, 14, 0.5) * speed
    call.add("triage.conscious", conscious_at, source="console", actor=tc, data={"answer": "no"})
    # "Unsure" counts as "no"; an unrecognised arrest is one the caller said was breathing.
    answer = ("unsure" if rng.random() < 0.15 else "no") if recognized else "yes"
    call.add("triage.breathing", breathing_at, source="console", actor=tc, data={"answer": answer})
    # The determinant is coded after the questions: 9-E-1 once arrest is recognised, otherwise
    # what the caller described (unconscious / fainting, breathing problems).
    code, text = (
        ("09-E-01", "Cardiac arrest, not breathing at all")
        if recognized
        else rng.choice((("31-D-02", "Unconscious"), ("06-D-01", "Breathing problems")))
    )
    call.add("call.nature", breathing_at + rng.uniform(5, 20), data={"code": code, "text": text})
    first_compression = None
    if recognized:
        start = breathing_at + rng.uniform(3, 12)
        reason = _pick(rng, NOT_GIVEN) if rng.random() < 0.12 else None
        if reason is None:
            call.add("tcpr.started", start, source="console", actor=tc)
            if rng.random() < 0.88:  # else the crew arrived before the caller got going
                first_compression = start + _lognormal(rng, 60, 0.45)
                call.add("tcpr.first_compression", first_compression, source="console", actor=tc)
        else:
            call.add("tcpr.not_given", start, source="console", actor=tc, data={"reason": reason})
    on_scene = answered + _lognormal(rng, 420, 0.3)
    call.add("unit.on_scene", on_scene, data={"unit": "M12"})
    call.add("call.ended", on_scene + rng.uniform(5, 60))
    outcome = {
        "ohca": arrest,
        "resuscitation_attempted": arrest and rng.random() < 0.93,
        "ems_witnessed": ems_witnessed,
    }
    if outcome["resuscitation_attempted"]:
        outcome["rosc"] = rng.random() < 0.3
    call.add("ems.outcome", on_scene + 3600, source="ems", data=outcome)
    if reviewed:
        review: dict[str, Any] = {"recognizable": not (arrest and not recognized and not agonal)}
        if arrest and not recognized:
            review["nonrecognition_reasons"] = [
                "agonal_breathing_reported_as_breathing" if agonal else "caller_not_with_patient"
            ]
        if first_compression is not None and first_compression >= 150:
            review["delay_reasons"] = ["moving_patient_to_floor"]
        review["signed_off"] = True
        call.add("qi.review", on_scene + 86_400 * 3, source="qi", actor="qi-demo", data=review)
    return call.records


def history(
    end: datetime, *, months: int = 12, per_month: int = 22, seed: int = 911
) -> Iterator[Record]:
    """Canonical event records of `per_month` arrest-coded calls a month for the `months` before
    `end`; calls of the last week are not yet QI-reviewed. Call ids carry `end`'s date, so a
    history seeded on another day never collides with this one."""
    rng = random.Random(seed)
    prefix = f"DEMO-H{end:%y%m%d}"
    start = end - timedelta(days=30.44 * months)
    count = months * per_month
    for n in range(count):
        t0 = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds() - 3600))
        reviewed = t0 < end - timedelta(days=7) and rng.random() < 0.85
        yield from _one_call(rng, f"{prefix}-{n + 1:04d}", t0, reviewed)
