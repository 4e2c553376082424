"""CARES-style dispatch rows: one per population call (docs/cares-crosswalk.md), pure.

CARES (Cardiac Arrest Registry to Enhance Survival) links 911 call centre data to the EMS and
hospital records of each out-of-hospital cardiac arrest. Its dispatch fields are the 911 call
time at the PSAP, whether the telecommunicator recognised the arrest, whether telecommunicator
(dispatcher-assisted) CPR was given, and when the first directed compression happened. This module
builds those fields from a call's folded state; the CARES record itself is completed on the EMS
side, so only calls EMS put in the T-CPR population are exported, and of those only arrests of
presumed non-traumatic cause (CARES excludes "clear and obvious traumatic etiology").

Times are the corrected ones (a QI reviewer's correction from the recording wins), written in the
agency's zone with their offset; intervals are seconds from T0 as in DESIGN.md §4.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from contract.kinds import Kind
from service.qi.audit_csv import cell
from service.qi.summary import is_traumatic
from service.triage.call_state import CallState
from service.triage.intervals import benchmarks, intervals
from service.triage.profiles import BenchmarkProfile

COLUMNS: Final = (
    "agency",
    "psap",
    "cad_incident_number",
    "date_of_arrest_call",
    "call_received_at_psap",
    "call_answered",
    "call_transferred",
    "telecommunicator",
    "arrest_recognized_by_telecommunicator",
    "recognition_time",
    "seconds_to_recognition",
    "recognition_path",
    "telecommunicator_cpr",
    "tcpr_not_given_reason",
    "tcpr_instructions_started",
    "first_directed_compression",
    "seconds_to_first_compression",
    "first_unit_dispatched",
    "benchmark_profile",
    "recognition_benchmark_met",
    "first_compression_benchmark_met",
    "qi_reviewed",
    "qi_recognizable",
)
# A not-given reason under which T-CPR did not apply rather than failed: CPR was already under
# way when the telecommunicator came to it.
NOT_APPLICABLE_REASONS: Final = frozenset({"cpr_in_progress"})


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def telecommunicator_cpr(state: CallState) -> str:
    """By the measures' one rule (DESIGN.md §5): an excluded call (not given, and no directed
    first compression) is Not applicable when bystander CPR was already in progress and No
    otherwise; any other call is Yes when instructions began or a directed compression
    happened (a "caller hung up" after the first compression leaves it Yes), else No."""
    if state.excluded:
        return "Not applicable" if state.not_given_reason in NOT_APPLICABLE_REASONS else "No"
    if state.corrected(Kind.TCPR_STARTED) or state.corrected(Kind.TCPR_FIRST_COMPRESSION):
        return "Yes"
    return "No"


def exported(state: CallState) -> bool:
    """CARES takes arrests of presumed non-traumatic cause: a call whose EMS outcome gives a
    clear traumatic etiology is left out of the export."""
    return not is_traumatic((state.ems_outcome or {}).get("etiology"))


def cares_row(state: CallState, profile: BenchmarkProfile, zone: str) -> dict[str, str]:
    """One CARES-style dispatch row for a call (every value a string; blank when unknown)."""
    tz = ZoneInfo(zone)

    def local(t: datetime | None) -> str:
        return "" if t is None else t.astimezone(tz).isoformat()

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    iv = intervals(state)
    met = benchmarks(state, profile)
    t0 = state.t0
    review = state.review_in_force
    recognizable = review.recognizable if review is not None else None
    return {
        # CAD text as typed, neutralised against spreadsheet formulas like the audit CSV.
        "agency": cell(state.agency),
        "psap": cell(state.psap),
        "cad_incident_number": cell(state.call_id),
        "date_of_arrest_call": "" if t0 is None else t0.astimezone(tz).date().isoformat(),
        "call_received_at_psap": local(t0),
        "call_answered": local(state.corrected(Kind.CALL_ANSWERED)),
        "call_transferred": local(state.corrected(Kind.CALL_TRANSFERRED)),
        "telecommunicator": cell(state.telecommunicator),
        # Telecommunicator recognition: before EMS arrived (DESIGN.md §5).
        "arrest_recognized_by_telecommunicator": yes_no(state.telecommunicator_recognized),
        "recognition_time": local(state.recognized_at),
        "seconds_to_recognition": number(iv["to_recognition"]),
        "recognition_path": state.path or "",
        "telecommunicator_cpr": telecommunicator_cpr(state),
        "tcpr_not_given_reason": state.not_given_reason or "",
        "tcpr_instructions_started": local(state.corrected(Kind.TCPR_STARTED)),
        "first_directed_compression": local(state.corrected(Kind.TCPR_FIRST_COMPRESSION)),
        "seconds_to_first_compression": number(iv["to_first_compression"]),
        "first_unit_dispatched": local(state.corrected(Kind.UNIT_DISPATCHED)),
        "benchmark_profile": profile.name,
        "recognition_benchmark_met": yes_no(met.recognition_met),
        "first_compression_benchmark_met": yes_no(met.first_compression_met),
        "qi_reviewed": yes_no(review is not None and review.signed_off),
        "qi_recognizable": yes_no(recognizable),
    }
