"""Simulated cardiac-arrest calls for demos, training and load: the one call model, which
`tcpr simulate` writes or plays and `service.demo.history` uses for the demo's year of past calls.

Every call is one a caller reports as an unconscious person; most are out-of-hospital cardiac
arrests. Its intervals are drawn to resemble published T-CPR programme results:
- Lewis, Stubbs, Eisenberg, "Dispatcher-assisted CPR: time to identify cardiac arrest and deliver
  chest compression instructions", Circulation 2013;128:1522-30 (King County, 476 arrests):
  arrest recognised in 80 % of calls, median recognition 75 s, median first directed compression
  176 s; agonal breathing reported as breathing is the main reason an arrest goes unrecognised;
  callers unable or unwilling, CPR already in progress and transfers as barriers and delays.
- King County EMS / Resuscitation Academy T-CPR programme and QI guidance, and the AHA 2020 T-CPR
  programme statement (the `aha-2020` profile: recognition under 90 s and the first compression
  under 150 s from call connection, T0 at the first PSAP). The model aims a little faster than
  Lewis's single year, as a centre running such a programme: median recognition about 70 s and
  median first compression about 140 s from T0. Those two targets, and the shares below that the
  papers give only as barriers (transfers, refusals, over-triage), are the model's choices.

The model, as drawn per call (seconds from T0, the `call.received` at the first PSAP):
- answered after uniform 4-14 s; 20 % are answered at a primary PSAP and transferred to the EMS
  dispatch centre, which adds uniform 15-60 s;
- address and call-back number first: "conscious?" answered a lognormal median 42 s after answer,
  "breathing normally?" a median 14 s later, each scaled by the telecommunicator's pace (six
  telecommunicators, pace 0.8-1.4, recognition chance 0.65-0.92: about 80 % of arrests overall);
- 88 % are arrests (5 % of all calls EMS-witnessed); the other 12 % are syncope or seizures, of
  which 60 % are recognised anyway (over-triage); 70 % of unrecognised arrests are agonal
  breathing reported as breathing;
- a recognised arrest is declared directly (`ohca.recognized`) in a share of calls set by the
  `Centre` (15 % in `simulate`, none in the demo history), else by the two answers (15 % "unsure");
- T-CPR begins 3-12 s after recognition; 12 % are not given (CPR already in progress 35 %, caller
  unable 25 %, refused 15 %, cannot position 10 %, hung up 10 %, unsafe 5 %); of those begun, the
  first compression follows a lognormal median 55 s later, 12 % never (the crew arrives first);
- the unit is dispatched 25-60 s after answer, on scene a lognormal median 7 minutes after answer;
  the call ends 5-60 s later; the EMS outcome (patient care record linkage) an hour later, with
  resuscitation attempted in 93 % of arrests and ROSC in 30 % of those.

Pure and seeded: no I/O and no clock; times come from the arguments, so the same arguments give
the same canonical event records (DESIGN.md §2), and a re-sent run repeats nothing.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

Record = dict[str, Any]

DEFAULT_RATE_PER_HOUR: Final = 12.0
# What a CAD itself sends; the rest comes from the console (the trainee, in training) and EMS.
CAD_KINDS: Final = frozenset(
    {
        "call.received",
        "call.transferred",
        "call.answered",
        "call.nature",
        "unit.dispatched",
        "unit.on_scene",
        "call.ended",
    }
)
# Each telecommunicator's recognition-time factor and recognition chance.
SKILL: Final = {
    "tc-114": (0.80, 0.92),
    "tc-207": (1.00, 0.85),
    "tc-311": (1.25, 0.72),
    "tc-402": (0.90, 0.88),
    "tc-518": (1.10, 0.80),
    "tc-623": (1.40, 0.65),
}
TELECOMMUNICATORS: Final = tuple(SKILL)
NOT_GIVEN: Final = (
    ("cpr_in_progress", 0.35),
    ("caller_unable", 0.25),
    ("caller_refused", 0.15),
    ("cannot_position", 0.10),
    ("hung_up", 0.10),
    ("unsafe", 0.05),
)
SIMULATED_UNITS: Final = ("M12", "M14", "M21", "M23", "M31", "E7", "E9", "E15")


@dataclass(frozen=True, slots=True)
class Centre:
    """Whose calls these are and how they are written: the agency, the zone its CAD writes times
    in, the units it sends (in turn, by call number) and the share of recognised arrests its
    telecommunicators declare directly rather than by the two questions."""

    agency: str
    zone: tzinfo
    units: tuple[str, ...] = ("M12",)
    direct_share: float = 0.0


class SimulatedCall:
    """One call's records at offsets from its T0, and the facts behind them that the records only
    imply (what EMS and a QI reviewer would find)."""

    def __init__(self, centre: Centre, call_id: str, t0: datetime) -> None:
        self.centre, self.call_id, self.t0 = centre, call_id, t0
        self.records: list[Record] = []
        self.arrest = self.recognized = self.agonal = False
        self.first_compression_s: float | None = None
        self.on_scene_s = 0.0

    def add(self, kind: str, seconds: float, *, source: str = "cad", **fields: Any) -> None:
        when = (self.t0 + timedelta(seconds=round(seconds, 1))).astimezone(self.centre.zone)
        self.records.append(
            {
                "event_id": f"{self.call_id}-{len(self.records) + 1:02d}",
                "call_id": self.call_id,
                "agency": self.centre.agency,
                "kind": kind,
                "at": when.isoformat(),
                "source": source,
                **fields,
            }
        )


def _lognormal(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0.0, spread))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def simulated_call(
    rng: random.Random, centre: Centre, call_id: str, t0: datetime, number: int = 0
) -> SimulatedCall:
    """One call drawn from the model of the module docstring (records in the order drawn, not in
    time order); `number` picks the unit."""
    call = SimulatedCall(centre, call_id, t0)
    unit = centre.units[number % len(centre.units)]
    tc = rng.choice(TELECOMMUNICATORS)
    pace, chance = SKILL[tc]
    call.add("call.received", 0, data={"psap": f"{centre.agency}-PSAP"})
    answered = rng.uniform(4, 14)
    if rng.random() < 0.2:  # answered at a primary PSAP and transferred to EMS dispatch
        call.add("call.transferred", answered, data={"to": f"{centre.agency}-EMS"})
        answered += rng.uniform(15, 60)
    call.add("call.answered", answered, actor=tc)
    call.add("unit.dispatched", answered + rng.uniform(25, 60), data={"unit": unit})

    kind_of_call = rng.random()
    call.arrest = arrest = kind_of_call < 0.88  # the rest: EMS finds no arrest (syncope...)
    ems_witnessed = arrest and kind_of_call < 0.05
    call.recognized = recognized = rng.random() < (chance if arrest else 0.6)
    call.agonal = arrest and not recognized and rng.random() < 0.7
    # Address and call-back number come first; the two questions follow.
    conscious_at = answered + _lognormal(rng, 42, 0.35) * pace
    breathing_at = conscious_at + _lognormal(rng, 14, 0.5) * pace
    # Drawn only where the centre declares directly, so a centre that never does (the demo
    # history) draws the same numbers as before this share existed.
    direct = recognized and centre.direct_share > 0 and rng.random() < centre.direct_share
    if direct:  # the caller's first words ("he's not breathing, he's blue") settle it
        recognized_at = conscious_at
        call.add("ohca.recognized", recognized_at, source="console", actor=tc)
    else:
        recognized_at = breathing_at
        call.add(
            "triage.conscious", conscious_at, source="console", actor=tc, data={"answer": "no"}
        )
        # "Unsure" counts as "no"; an unrecognised arrest is one the caller said was breathing.
        answer = ("unsure" if rng.random() < 0.15 else "no") if recognized else "yes"
        call.add(
            "triage.breathing", breathing_at, source="console", actor=tc, data={"answer": answer}
        )
    # The determinant is coded after recognition: 9-E-1 for an arrest, otherwise what the caller
    # described (unconscious / fainting, breathing problems).
    code, text = (
        ("09-E-01", "Cardiac arrest, not breathing at all")
        if recognized
        else rng.choice((("31-D-02", "Unconscious"), ("06-D-01", "Breathing problems")))
    )
    call.add("call.nature", recognized_at + rng.uniform(5, 20), data={"code": code, "text": text})
    if recognized:
        start = recognized_at + rng.uniform(3, 12)
        reason = _pick(rng, NOT_GIVEN) if rng.random() < 0.12 else None
        if reason is None:
            call.add("tcpr.started", start, source="console", actor=tc)
            if rng.random() < 0.88:  # else the crew arrived before the caller got going
                call.first_compression_s = start + _lognormal(rng, 55, 0.45)
                call.add(
                    "tcpr.first_compression", call.first_compression_s, source="console", actor=tc
                )
        else:
            call.add("tcpr.not_given", start, source="console", actor=tc, data={"reason": reason})
    call.on_scene_s = on_scene = answered + _lognormal(rng, 420, 0.3)
    call.add("unit.on_scene", on_scene, data={"unit": unit})
    call.add("call.ended", on_scene + rng.uniform(5, 60))
    outcome = {
        "ohca": arrest,
        "resuscitation_attempted": arrest and rng.random() < 0.93,
        "ems_witnessed": ems_witnessed,
    }
    if outcome["resuscitation_attempted"]:
        outcome["rosc"] = rng.random() < 0.3
    call.add("ems.outcome", on_scene + 3600, source="ems", data=outcome)
    return call


def simulate(
    start: datetime,
    *,
    calls: int,
    rate_per_hour: float | None = None,
    agency: str = "SIM",
    seed: int = 911,
    cad_only: bool = False,
    zone: tzinfo = UTC,
) -> Iterator[Record]:
    """Canonical event records of `calls` calls, the first at `start` and each next one after an
    exponential gap (a Poisson process of `rate_per_hour`, default 12), all calls' records merged
    in time order. `cad_only` keeps only what a CAD sends (CAD_KINDS), for training where the
    trainee works the panel. Call ids carry `start` and `seed`, so another run never reuses them."""
    if start.utcoffset() is None:
        raise ValueError("start needs a UTC offset")
    rate = DEFAULT_RATE_PER_HOUR if rate_per_hour is None else rate_per_hour
    if calls < 0 or not rate > 0:
        raise ValueError("calls must be 0 or more and rate_per_hour positive")
    utc = start.astimezone(UTC)
    stamp = f"{utc:%y%m%d%H%M%S}" + (f"{utc:%f}" if utc.microsecond else "")
    centre = Centre(agency, zone, SIMULATED_UNITS, direct_share=0.15)
    rng = random.Random(seed)
    pending: list[tuple[datetime, int, Record]] = []  # a heap of drawn records not yet yielded
    order = 0
    t0 = start
    for n in range(calls):
        if n:
            t0 += timedelta(seconds=rng.expovariate(rate / 3600))
        # Every record of a call is at or after its T0: whatever is due before it can go.
        while pending and pending[0][0] < t0:
            yield heapq.heappop(pending)[2]
        call = simulated_call(rng, centre, f"{agency}-{stamp}-s{seed}-{n + 1:05d}", t0, n)
        for record in call.records:
            if not cad_only or record["kind"] in CAD_KINDS:
                heapq.heappush(pending, (datetime.fromisoformat(record["at"]), order, record))
                order += 1
    while pending:
        yield heapq.heappop(pending)[2]
