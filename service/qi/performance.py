"""Per-telecommunicator breakdown, feedback cards and the recognition list, pure.

Feedback is written from the telecommunicator's own figures against the agency's benchmark
profile and the AHA goals, never from canned praise: a strength is a goal or benchmark met, an
opportunity one missed, each stated with the counts behind it so the conversation starts from the
calls.

Outstanding performance (the recognition list) is a call that
- EMS confirmed as a T-CPR population arrest, or has no EMS outcome yet (marked pending: a
  confirmed non-arrest, EMS-witnessed arrest or no-attempt call is never on the list);
- was recognised in under two thirds of the recognition benchmark (under 60 s for aha-2020's
  90 s: "well under", a third of the allowance to spare);
- got a first directed compression under the first-compression benchmark (150 s for aha-2020).
Best first: earliest first compression (hands on the chest is what the patient needs), then
earliest recognition, then T0 and call id so the order is stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from service.qi.cohorts import Cohort
from service.qi.measures import compression_values, measures_from_cohorts, recognition_values
from service.qi.summary import CallSummary
from service.triage.intervals import met
from service.triage.profiles import BenchmarkProfile

OUTSTANDING_RECOGNITION_SHARE: Final = 2 / 3


def seconds(value: float) -> str:
    """62.0 -> "62", 62.5 -> "62.5"."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def compared(value: float, benchmark: float) -> str:
    if value < benchmark:
        return "under"
    return "at" if value == benchmark else "over"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True, slots=True)
class GoalsMet:
    """The AHA pairs measure 1 (recognition) with measure 2 (T-CPR): both goals judged; None
    where nothing was eligible."""

    recognition: bool | None
    tcpr: bool | None


@dataclass(frozen=True, slots=True)
class Figures:
    """One telecommunicator's figures for the period; the rates and medians as the measures give
    them (service.qi.measures)."""

    telecommunicator: str | None  # None: calls with no telecommunicator recorded
    calls: int
    population: int
    recognized: int
    recognition_rate: Mapping[str, Any]
    tcpr_rate: Mapping[str, Any]
    median_seconds_to_recognition: Mapping[str, Any]
    median_seconds_to_first_compression: Mapping[str, Any]
    recognition_met: int
    first_compression_met: int
    goals_met: GoalsMet
    # The reviewed (AHA) coverage and rates.
    reviewed: Mapping[str, Any]
    # The training needs QI review found in this person's calls: kind -> reason -> count.
    reasons: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Card:
    """Feedback written from the figures: what went well, what to work on."""

    headline: str
    verdict: str | None
    strengths: tuple[str, ...]
    opportunities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TelecommunicatorRow:
    figures: Figures
    card: Card


@dataclass(frozen=True, slots=True)
class Performance:
    """One outstanding performance on the recognition list."""

    call_id: str
    telecommunicator: str | None
    t0: datetime  # in the agency's zone
    to_recognition: float
    to_first_compression: float
    ems_confirmed: bool  # False: no EMS outcome yet
    why: str


def breakdown(
    groups: Mapping[str | None, Iterable[Cohort]], profile: BenchmarkProfile
) -> list[TelecommunicatorRow]:
    """One row per telecommunicator (None: calls with no telecommunicator), named ones first."""
    rows = []
    for telecommunicator in sorted(groups, key=lambda t: (t is None, t or "")):
        cohorts = list(groups[telecommunicator])
        m = measures_from_cohorts(cohorts, profile)
        to_recognition = recognition_values(cohorts)
        to_compression = compression_values(cohorts)
        figures = Figures(
            telecommunicator=telecommunicator,
            calls=m["calls_in_period"],
            population=m["population"],
            recognized=m["recognition_rate"]["numerator"],
            recognition_rate=m["recognition_rate"],
            tcpr_rate=m["tcpr_rate"],
            median_seconds_to_recognition=m["median_seconds_to_recognition"],
            median_seconds_to_first_compression=m["median_seconds_to_first_compression"],
            recognition_met=sum(met(v, profile.recognition_s) is True for v in to_recognition),
            first_compression_met=sum(
                met(v, profile.first_compression_s) is True for v in to_compression
            ),
            goals_met=GoalsMet(
                recognition=goal_met(m["recognition_rate"]), tcpr=goal_met(m["tcpr_rate"])
            ),
            reviewed={
                "coverage": m["reviewed"]["coverage"],
                "recognition_rate": m["reviewed"]["recognition_rate"],
                "tcpr_rate": m["reviewed"]["tcpr_rate"],
            },
            reasons=m["reviewed"]["reasons"],
        )
        rows.append(TelecommunicatorRow(figures, card(figures)))
    return rows


def goal_met(rate: Mapping[str, Any]) -> bool | None:
    return None if rate["percent"] is None else rate["percent"] >= rate["goal"]


def verdict(figures: Figures) -> str:
    """Measures 1 and 2 together, as the AHA intends: recognising an arrest is half the job, the
    other half is getting the caller's hands on the chest."""
    recognition, tcpr = figures.goals_met.recognition, figures.goals_met.tcpr
    if recognition and tcpr:
        return "Meets both AHA goals: recognition and T-CPR"
    if recognition and tcpr is None:
        return "Meets the recognition goal; no recognised arrest was eligible for T-CPR"
    if recognition:
        return "Meets the recognition goal, not the T-CPR goal"
    if tcpr:
        return "Meets the T-CPR goal, not the recognition goal"
    if tcpr is None:
        return "Below the recognition goal; no recognised arrest was eligible for T-CPR"
    return "Below both AHA goals: recognition and T-CPR"


def card(figures: Figures) -> Card:
    """Headline, strengths and opportunities from one telecommunicator's figures."""
    population, recognized = figures.population, figures.recognized
    recognition = figures.recognition_rate
    tcpr = figures.tcpr_rate
    to_recognition = figures.median_seconds_to_recognition
    to_compression = figures.median_seconds_to_first_compression
    strengths: list[str] = []
    opportunities: list[str] = []
    if population == 0:
        who = "No telecommunicator recorded" if figures.telecommunicator is None else "No arrests"
        headline = (
            f"{who}: {plural(figures.calls, 'call')}, none an EMS-confirmed cardiac arrest "
            "with resuscitation attempted in this period"
        )
        return Card(headline, None, (), ())

    headline = f"Recognised {recognized} of {plural(population, 'arrest')}"
    if tcpr["denominator"]:
        headline += f", compressions in {tcpr['numerator']} of {tcpr['denominator']} eligible"
    if to_recognition["value"] is not None:
        value, benchmark = to_recognition["value"], to_recognition["benchmark"]
        headline += (
            f", median {seconds(value)} s to recognition — {compared(value, benchmark)} "
            f"the {seconds(benchmark)} s benchmark"
        )
    if to_compression["value"] is not None:
        headline += f"; median first compression {seconds(to_compression['value'])} s"

    goal = recognition["goal"]
    if figures.goals_met.recognition:
        strengths.append(
            f"Recognition {recognition['percent']:g} % ({recognized} of {population}) meets "
            f"the {goal:g} % goal"
        )
    else:
        missed = population - recognized
        opportunities.append(
            f"{plural(missed, 'arrest')} not recognised: recognition {recognition['percent']:g} %"
            f" against the {goal:g} % goal"
        )
    _interval(
        to_recognition,
        figures.recognition_met,
        "recognition",
        "recognitions",
        strengths,
        opportunities,
    )
    if tcpr["denominator"]:
        text = (
            f"first compression in {tcpr['numerator']} of {tcpr['denominator']} calls eligible "
            f"for T-CPR ({tcpr['percent']:g} %)"
        )
        if figures.goals_met.tcpr:
            strengths.append(f"T-CPR: {text}, meeting the {tcpr['goal']:g} % goal")
        else:
            opportunities.append(f"T-CPR: {text}, below the {tcpr['goal']:g} % goal")
    _interval(
        to_compression,
        figures.first_compression_met,
        "first compression",
        "first compressions",
        strengths,
        opportunities,
    )
    needs = sorted(
        ((n, kind, code) for kind, tally in figures.reasons.items() for code, n in tally.items()),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    if needs:
        opportunities.append(
            "Training needs from QI review: "
            + ", ".join(f"{code.replace('_', ' ')} ({n})" for n, _, code in needs)
        )
    return Card(headline, verdict(figures), tuple(strengths), tuple(opportunities))


def _interval(
    median: Mapping[str, Any],
    met: int,
    name: str,
    plural_name: str,
    strengths: list[str],
    opportunities: list[str],
) -> None:
    if median["value"] is None:
        return
    value, benchmark, n = median["value"], median["benchmark"], median["n"]
    text = (
        f"median {seconds(value)} s to {name} over {n} {plural_name if n != 1 else name} "
        f"({met} of {n} under the {seconds(benchmark)} s benchmark)"
    )
    if value < benchmark:
        strengths.append(text[0].upper() + text[1:])
    else:
        opportunities.append(
            f"{text[0].upper() + text[1:]}: {n - met} took {seconds(benchmark)} s or longer"
        )


def outstanding_bounds(profile: BenchmarkProfile) -> tuple[float, float]:
    """(recognition under, first compression under) for an outstanding performance."""
    return profile.recognition_s * OUTSTANDING_RECOGNITION_SHARE, profile.first_compression_s


def outstanding(
    calls: Iterable[CallSummary], profile: BenchmarkProfile, zone: str = "UTC"
) -> list[Performance]:
    """The recognition list: outstanding performances among `calls`, best first."""
    recognition_under, compression_under = outstanding_bounds(profile)
    chosen = [
        c
        for c in calls
        if (c.in_population or not c.has_ems_outcome)
        and c.recognized
        and c.t0 is not None
        and c.to_recognition is not None
        and c.to_recognition < recognition_under
        and c.to_first_compression is not None
        and c.to_first_compression < compression_under
    ]
    chosen.sort(
        key=lambda c: (
            c.to_first_compression,
            c.to_recognition,
            c.t0.timestamp() if c.t0 else 0,
            c.call_id,
        )
    )
    tz = ZoneInfo(zone)
    out = []
    for c in chosen:
        assert c.t0 is not None and c.to_recognition is not None
        assert c.to_first_compression is not None
        to_recognition, to_compression = (
            round(c.to_recognition, 3),
            round(c.to_first_compression, 3),
        )
        why = (
            f"recognised in {seconds(to_recognition)} s, well under the "
            f"{seconds(profile.recognition_s)} s benchmark, and first compression at "
            f"{seconds(to_compression)} s, under {seconds(compression_under)} s"
        )
        if not c.in_population:
            why += " (EMS outcome pending)"
        out.append(
            Performance(
                call_id=c.call_id,
                telecommunicator=c.telecommunicator,
                t0=c.t0.astimezone(tz),
                to_recognition=to_recognition,
                to_first_compression=to_compression,
                ems_confirmed=c.in_population,
                why=why,
            )
        )
    return out
