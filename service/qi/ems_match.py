"""Which call an EMS patient care report belongs to (DESIGN.md §8, contract), pure.

In order: the agency's call whose `call_id` equals `eDispatch.06` (the CAD record id), else
equals `eResponse.03` (the incident number), else the only call whose T0 lies within five
minutes of `eTimes.01` (the PSAP call time). Two or more calls in that window, or none, leave the
report unmatched for a person to link: guessing between two arrests would put one patient's
outcome on another's call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

TIME_TOLERANCE: Final = timedelta(minutes=5)
BY_CAD_RECORD: Final = "eDispatch.06"
BY_INCIDENT_NUMBER: Final = "eResponse.03"
BY_PSAP_CALL_TIME: Final = "eTimes.01"
BY_HAND: Final = "hand"


@dataclass(frozen=True, slots=True)
class Match:
    call_id: str | None
    matched_by: str | None  # BY_CAD_RECORD | BY_INCIDENT_NUMBER | BY_PSAP_CALL_TIME | None
    # The calls whose T0 lay within the tolerance: one when matched by time, several when the
    # time was ambiguous (shown to the person who links the report by hand).
    candidates: tuple[str, ...] = ()


def match(
    cad_record_id: str | None,
    incident_number: str | None,
    psap_call_at: datetime | None,
    known_call_ids: Collection[str],
    calls_near: Iterable[tuple[str, datetime]],
    tolerance: timedelta = TIME_TOLERANCE,
) -> Match:
    """`known_call_ids`: which of the report's two ids exist as calls of the agency;
    `calls_near`: (call_id, T0) of the agency's calls near `eTimes.01` (filtered again here)."""
    if cad_record_id is not None and cad_record_id in known_call_ids:
        return Match(cad_record_id, BY_CAD_RECORD)
    if incident_number is not None and incident_number in known_call_ids:
        return Match(incident_number, BY_INCIDENT_NUMBER)
    if psap_call_at is None:
        return Match(None, None)
    within = sorted({call_id for call_id, t0 in calls_near if abs(t0 - psap_call_at) <= tolerance})
    if len(within) == 1:
        return Match(within[0], BY_PSAP_CALL_TIME, tuple(within))
    return Match(None, None, tuple(within))


def outcome_event_id(pcr_key: str, call_id: str, outcome: Mapping[str, Any]) -> str:
    """The `ems.outcome` event id of a report on a call: the same report and content give the
    same id (a re-import is a duplicate), a corrected report a new one (a new outcome)."""
    content = json.dumps(
        {"pcr_key": pcr_key, "call_id": call_id, "outcome": outcome},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "nemsis-" + hashlib.sha256(content.encode()).hexdigest()[:48]
