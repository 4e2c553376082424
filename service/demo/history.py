"""A year of past calls for the demo agency, so the QI pages have audits, charts and cards to show
on a fresh `tcpr serve --demo`.

The calls come from the simulator's call model (cad_adapters.simulator, whose docstring gives the
distributions and their published sources: about four in five arrests recognised, median
recognition a little over a minute, agonal breathing the main reason an arrest goes unrecognised,
some over-triage...). The demo centre's telecommunicators always ask the two questions (no direct
declarations) and send unit M12; this module adds the QI reviews of calls older than a week.
Pure and seeded: the same `end` and seed give the same canonical event records, with event ids
that make a second seeding a no-op (duplicates are harmless by the contract).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from cad_adapters.simulator import Centre, Record, SimulatedCall, simulated_call

AGENCY: Final = "DEMO"
ZONE: Final = timezone(timedelta(hours=-5))  # the demo centre writes its times in -05:00
CENTRE: Final = Centre(AGENCY, ZONE)


def _review(call: SimulatedCall) -> dict[str, Any]:
    """What a QI reviewer signs off for the call, from what the simulator knows about it."""
    missed = call.arrest and not call.recognized
    review: dict[str, Any] = {"recognizable": not (missed and not call.agonal)}
    if missed:
        review["nonrecognition_reasons"] = [
            "agonal_breathing_reported_as_breathing" if call.agonal else "caller_not_with_patient"
        ]
    if call.first_compression_s is not None and call.first_compression_s >= 150:
        review["delay_reasons"] = ["moving_patient_to_floor"]
    review["signed_off"] = True
    return review


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
        call = simulated_call(rng, CENTRE, f"{prefix}-{n + 1:04d}", t0, n)
        if reviewed:
            review = _review(call)
            call.add(
                "qi.review", call.on_scene_s + 86_400 * 3, source="qi", actor="qi-demo", data=review
            )
        _describe(call.records, random.Random(f"{seed}-{n}"))
        yield from call.records


AREAS: Final = ("district-1", "district-2", "district-3", "district-4")
RACES: Final = (
    ("white", 0.55),
    ("black_or_african_american", 0.22),
    ("hispanic_or_latino", 0.15),
    ("asian", 0.05),
    ("american_indian_or_alaska_native", 0.03),
)


def _describe(records: list[Record], rng: random.Random) -> None:
    """What a real feed and EMS report would add, for the equity breakdowns: the call's area,
    the instructions' language, and the patient's age, sex and race on the EMS outcome (an
    adult OHCA population: median age in the mid-sixties, about three in five men). Drawn from
    the call's own generator, so the rest of the history does not move."""
    area = rng.choice(AREAS)
    language = "es" if rng.random() < 0.15 else "en"
    age = max(1, min(99, round(rng.gauss(64, 16))))
    sex = "male" if rng.random() < 0.6 else "female"
    race = rng.choices([r for r, _ in RACES], weights=[w for _, w in RACES])[0]
    for record in records:
        data = record.setdefault("data", {})
        if record["kind"] == "call.received":
            data["area"] = area
        elif record["kind"] == "tcpr.started":
            data["language"] = language
        elif record["kind"] == "ems.outcome":
            data.update(age_years=age, sex=sex, race=race)
