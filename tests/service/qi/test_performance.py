"""Per-telecommunicator breakdown, feedback cards and the recognition list, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.qi.cohorts import cohorts
from service.qi.measures import CallSummary
from service.qi.performance import breakdown, outstanding, outstanding_bounds
from service.serialise import performance_json, telecommunicator_row_json
from service.triage.profiles import AHA_2020, RA_LEGACY

T = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def call(
    call_id: str,
    telecommunicator: str | None,
    *,
    population: bool = True,
    recognized_s: float | None = None,
    compression_s: float | None = None,
    not_given: str | None = None,
    ems_outcome: bool | None = None,
    not_arrest: bool = False,
    minutes: int = 0,
) -> CallSummary:
    has_outcome = population if ems_outcome is None else ems_outcome
    return CallSummary(
        call_id=call_id,
        t0=T + timedelta(minutes=minutes),
        in_population=population,
        has_ems_outcome=has_outcome,
        ems_says_not_arrest=not_arrest,
        ems_witnessed=False,
        resuscitation_attempted=True if population else None,
        recognized=recognized_s is not None,
        to_recognition=recognized_s,
        to_first_compression=compression_s,
        not_given_reason=not_given,
        excluded=not_given is not None and compression_s is None,
        excluded_reviewed=not_given is not None and compression_s is None,
        reviewed=False,
        recognizable=None,
        signed_off=False,
        telecommunicator=telecommunicator,
    )


def groups(calls: list[CallSummary]) -> dict[str | None, list]:
    out: dict[str | None, list[CallSummary]] = {}
    for c in calls:
        out.setdefault(c.telecommunicator, []).append(c)
    return {tc: cohorts(members) for tc, members in out.items()}


def test_breakdown_groups_by_telecommunicator_with_unassigned_last() -> None:
    calls = [
        # tc-114: 5 arrests, 4 recognised at 50, 60, 64, 100 s; compressions 110, 140, 170 s.
        call("A1", "tc-114", recognized_s=50, compression_s=110),
        call("A2", "tc-114", recognized_s=60, compression_s=140),
        call("A3", "tc-114", recognized_s=64, compression_s=170),
        call("A4", "tc-114", recognized_s=100, not_given="cpr_in_progress"),
        call("A5", "tc-114"),
        call("A6", "tc-114", population=False),
        # tc-007: one arrest, recognised at 95 s, no compression.
        call("B1", "tc-007", recognized_s=95),
        call("B2", "tc-007", population=False, recognized_s=40, ems_outcome=True, not_arrest=True),
        # unassigned: two calls, none in the population.
        call("U1", None, population=False),
        call("U2", None, population=False),
    ]
    rows = [telecommunicator_row_json(r) for r in breakdown(groups(calls), AHA_2020)]
    assert [r["telecommunicator"] for r in rows] == ["tc-007", "tc-114", None]

    tc114 = rows[1]
    assert tc114["calls"] == 6
    assert tc114["population"] == 5
    assert tc114["recognized"] == 4
    assert tc114["recognition_rate"] == {
        "numerator": 4,
        "denominator": 5,
        "percent": 80.0,
        "goal": 75.0,
    }
    # Eligible for T-CPR: recognised less A4 (not given): A1 A2 A3, all three compressed.
    assert tc114["tcpr_rate"]["numerator"] == 3
    assert tc114["tcpr_rate"]["denominator"] == 3
    # 50 60 64 100: even n, median (60 + 64) / 2 = 62.
    assert tc114["median_seconds_to_recognition"] == {"value": 62.0, "n": 4, "benchmark": 90}
    assert tc114["median_seconds_to_first_compression"] == {
        "value": 140.0,
        "n": 3,
        "benchmark": 150,
    }
    assert tc114["recognition_met"] == 3  # 50 60 64 under 90; 100 not
    assert tc114["first_compression_met"] == 2  # 110 140 under 150; 170 not
    assert tc114["card"] == {
        "headline": "Recognised 4 of 5 arrests, compressions in 3 of 3 eligible, median 62 s to "
        "recognition — under the 90 s benchmark; median first compression 140 s",
        "verdict": "Meets both AHA goals: recognition and T-CPR",
        "strengths": [
            "Recognition 80 % (4 of 5) meets the 75 % goal",
            "Median 62 s to recognition over 4 recognitions (3 of 4 under the 90 s benchmark)",
            "T-CPR: first compression in 3 of 3 calls eligible for T-CPR (100 %), meeting the "
            "75 % goal",
            "Median 140 s to first compression over 3 first compressions (2 of 3 under the "
            "150 s benchmark)",
        ],
        "opportunities": [],
    }

    tc007 = rows[0]
    assert tc007["calls"] == 2
    assert tc007["population"] == 1
    assert tc007["recognition_met"] == 0
    assert tc007["card"] == {
        "headline": "Recognised 1 of 1 arrest, compressions in 0 of 1 eligible, median 95 s to "
        "recognition — over the 90 s benchmark",
        "verdict": "Meets the recognition goal, not the T-CPR goal",
        "strengths": ["Recognition 100 % (1 of 1) meets the 75 % goal"],
        "opportunities": [
            "Median 95 s to recognition over 1 recognition (0 of 1 under the 90 s benchmark): "
            "1 took 90 s or longer",
            "T-CPR: first compression in 0 of 1 calls eligible for T-CPR (0 %), below the 75 % "
            "goal",
        ],
    }

    unassigned = rows[2]
    assert unassigned["calls"] == 2
    assert unassigned["population"] == 0
    assert unassigned["recognition_rate"]["percent"] is None
    assert unassigned["card"] == {
        "headline": "No telecommunicator recorded: 2 calls, none an EMS-confirmed cardiac arrest "
        "with resuscitation attempted in this period",
        "verdict": None,
        "strengths": [],
        "opportunities": [],
    }


def test_cards_follow_the_profile_and_missed_recognitions() -> None:
    calls = [
        call("R1", "tc-9", recognized_s=100, compression_s=175),
        call("R2", "tc-9"),
        call("R3", "tc-9"),
    ]
    (row,) = [telecommunicator_row_json(r) for r in breakdown(groups(calls), RA_LEGACY)]
    card = row["card"]
    # ra-legacy: recognition under 120 s, first compression under 180 s.
    assert card["headline"] == (
        "Recognised 1 of 3 arrests, compressions in 1 of 1 eligible, median 100 s to recognition"
        " — under the 120 s benchmark; median first compression 175 s"
    )
    assert card["verdict"] == "Meets the T-CPR goal, not the recognition goal"
    assert card["opportunities"][0] == (
        "2 arrests not recognised: recognition 33.3 % against the 75 % goal"
    )
    assert (
        "Median 100 s to recognition over 1 recognition (1 of 1 under the 120 s benchmark)"
        in (card["strengths"])
    )


def test_outstanding_rule_and_order() -> None:
    assert outstanding_bounds(AHA_2020) == (60.0, 150)
    calls = [
        call("S1", "tc-1", recognized_s=45, compression_s=120, minutes=1),
        call("S2", "tc-2", recognized_s=30, compression_s=95),
        call("S3", "tc-3", recognized_s=50, compression_s=95, minutes=2),
        # recognised at exactly 60 s: not under two thirds of 90 s
        call("X1", "tc-1", recognized_s=60, compression_s=100),
        # first compression at the benchmark: not under it
        call("X2", "tc-1", recognized_s=20, compression_s=150),
        # no compression at all
        call("X3", "tc-1", recognized_s=20),
        # EMS said not an arrest: never on the list
        call(
            "X4",
            "tc-1",
            population=False,
            ems_outcome=True,
            not_arrest=True,
            recognized_s=20,
            compression_s=60,
        ),
        # no EMS outcome yet: listed, marked pending
        call(
            "P1",
            None,
            population=False,
            ems_outcome=False,
            recognized_s=40,
            compression_s=95,
            minutes=3,
        ),
    ]
    listed = [performance_json(p) for p in outstanding(calls, AHA_2020, "America/Chicago")]
    # By first compression, then recognition: S2 (95, 30), P1 (95, 40), S3 (95, 50), S1 (120).
    assert [p["call_id"] for p in listed] == ["S2", "P1", "S3", "S1"]
    first = listed[0]
    assert first == {
        "call_id": "S2",
        "telecommunicator": "tc-2",
        "t0": "2026-03-02T09:00:00-06:00",
        "to_recognition": 30,
        "to_first_compression": 95,
        "ems_confirmed": True,
        "why": "recognised in 30 s, well under the 90 s benchmark, and first compression at "
        "95 s, under 150 s",
    }
    assert listed[1]["why"].endswith("(EMS outcome pending)")
    assert listed[1]["ems_confirmed"] is False
