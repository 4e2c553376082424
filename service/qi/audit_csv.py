"""The audit draft as one flat CSV row per call (DESIGN.md §5 exports), pure.

One column per key timestamp (with the original beside it when a reviewer corrected it), interval,
benchmark, path, outcome and determination field, so a spreadsheet or a registry import needs no
JSON. Lists are joined with `;`. Text typed by people (notes, feedback, free-text reasons) is
neutralised against spreadsheet formula injection: a leading `=`, `+`, `-`, `@` gets a `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Final

from contract.event import iso
from service.qi.audit import TIMESTAMPS, AuditDraft
from service.triage.intervals import INTERVALS

# `ems.outcome` field -> its column.
EMS_COLUMNS: Final = {
    "ohca": "ems_ohca",
    "resuscitation_attempted": "ems_resuscitation_attempted",
    "ems_witnessed": "ems_witnessed",
    "etiology": "ems_etiology",
    "rosc": "ems_rosc",
    "survived": "ems_survived",
}
COLUMNS: Final = (
    "agency",
    "call_id",
    "telecommunicator",
    "psap",
    "benchmark_profile",
    "t0",
    *(c for name in TIMESTAMPS for c in (name, f"{name}_original")),
    *(f"{name}_s" for name in INTERVALS),
    "recognition_threshold_s",
    "first_compression_threshold_s",
    "recognition_met",
    "first_compression_met",
    "recognized",
    "recognition_path",
    "conscious",
    "breathing",
    "nature_code",
    "units",
    "tcpr_started",
    "first_compression",
    "tcpr_not_given_reason",
    "tcpr_not_given_note",
    "alerts",
    *EMS_COLUMNS.values(),
    "in_population",
    "over_triage",
    "suggested_reasons",
    "reviewed",
    "recognizable",
    "nonrecognition_reasons",
    "delay_reasons",
    "notes",
    "feedback",
    "signed_off",
    "reviewer",
    "reviewed_at",
    "live",
)
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell: booleans as true/false, None as empty, lists joined with `;`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def row(draft: AuditDraft) -> dict[str, str]:
    """One call's draft as a flat row keyed by COLUMNS."""
    ems = draft.ems_outcome or {}
    tcpr = draft.tcpr
    det = draft.determination
    values: dict[str, object] = {
        "agency": draft.agency,
        "call_id": draft.call_id,
        "telecommunicator": draft.telecommunicator,
        "psap": draft.psap,
        "benchmark_profile": draft.profile.name,
        "t0": iso(draft.t0),
        "recognition_threshold_s": draft.profile.recognition_s,
        "first_compression_threshold_s": draft.profile.first_compression_s,
        "recognition_met": draft.benchmarks.recognition_met,
        "first_compression_met": draft.benchmarks.first_compression_met,
        "recognized": draft.recognized,
        "recognition_path": draft.recognition_path,
        "conscious": draft.answers.conscious,
        "breathing": draft.answers.breathing,
        "nature_code": draft.nature.code,
        "units": draft.units,
        "tcpr_started": tcpr.started,
        "first_compression": tcpr.first_compression,
        "tcpr_not_given_reason": tcpr.not_given_reason,
        "tcpr_not_given_note": tcpr.not_given_note,
        "alerts": draft.alerts,
        "in_population": draft.in_population,
        "over_triage": draft.over_triage,
        "suggested_reasons": [s.reason for s in draft.suggested_reasons],
        "reviewed": draft.reviewed,
        "recognizable": det.recognizable,
        "nonrecognition_reasons": det.nonrecognition_reasons,
        "delay_reasons": det.delay_reasons,
        "notes": det.notes,
        "feedback": det.feedback,
        "signed_off": det.signed_off,
        "reviewer": det.reviewer,
        "reviewed_at": iso(det.reviewed_at),
        "live": draft.live,
    }
    for name, kind in TIMESTAMPS.items():
        values[name] = iso(draft.timestamps[name])
        values[f"{name}_original"] = iso(draft.original_times.get(kind))
    for name in INTERVALS:
        values[f"{name}_s"] = draft.intervals[name]
    for name, column in EMS_COLUMNS.items():
        values[column] = ems.get(name)
    return {column: cell(values[column]) for column in COLUMNS}


def header() -> str:
    return _line(dict(zip(COLUMNS, COLUMNS, strict=True)))


def line(draft: AuditDraft) -> str:
    """One draft as a CSV line (RFC 4180, CRLF), for streaming after `header()`."""
    return _line(row(draft))


def _line(values: Mapping[str, str]) -> str:
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=COLUMNS).writerow(values)
    return out.getvalue()
