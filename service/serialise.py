"""The core's views as the JSON the contract fixes (DESIGN.md §5 audit, §8 websocket `call`).

The core builds frozen dataclasses holding times and values; this is the one place each becomes
JSON, so the HTTP routes, the exports, the websocket snapshot and its live messages send the same
shape. Times keep the offset their source wrote them with (`iso`). Key order is part of the
contract: the pages and the JSON export read it in this order, so keys are written out by hand.
"""

from __future__ import annotations

from typing import Any

from contract.event import iso
from contract.payloads import Nature
from service.qi.audit import AuditDraft, Suggestion
from service.qi.performance import Performance, TelecommunicatorRow
from service.qi.review import Determination
from service.qi.timeline import TimelineEntry
from service.triage.intervals import Benchmarks
from service.triage.view import CallView


def benchmarks_json(b: Benchmarks) -> dict[str, Any]:
    return {"recognition_met": b.recognition_met, "first_compression_met": b.first_compression_met}


def nature_json(n: Nature) -> dict[str, Any]:
    return {"code": n.code, "text": n.text}


def call_view_json(v: CallView) -> dict[str, Any]:
    """A panel's call: the `call` of a ws `call` message and each of a `snapshot`'s `calls`."""
    return {
        "agency": v.agency,
        "call_id": v.call_id,
        "t0": iso(v.t0),
        "phase": v.phase,
        "live": v.live,
        "telecommunicator": v.telecommunicator,
        "answered_at": iso(v.answered_at),
        "conscious": v.conscious,
        "breathing": v.breathing,
        "breathing_confirmed": v.breathing_confirmed,
        "ruled_out": v.ruled_out,
        "verify_breathing": v.verify_breathing,
        "in_scope": v.in_scope,
        "dispatched_at": iso(v.dispatched_at),
        "needs_dispatch": v.needs_dispatch,
        "dispatch_alerts": v.dispatch_alerts,
        "recognized": v.recognized,
        "recognized_at": iso(v.recognized_at),
        "recognition_path": v.recognition_path,
        "tcpr_started_at": iso(v.tcpr_started_at),
        "tcpr_variant": v.tcpr_variant,
        "tcpr_language": v.tcpr_language,
        "first_compression_at": iso(v.first_compression_at),
        "not_given_reason": v.not_given_reason,
        "ended_at": iso(v.ended_at),
        "nature": nature_json(v.nature),
        "units": list(v.units),
        "alerts": list(v.alerts),
        "intervals": dict(v.intervals),
        "benchmarks": benchmarks_json(v.benchmarks),
        "benchmark_profile": v.benchmark_profile,
        "training": v.training,
        "deadlines": {name: iso(t) for name, t in v.deadlines.items()},
    }


def suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {"reason": s.reason, "why": s.why}


def determination_json(d: Determination) -> dict[str, Any]:
    return {
        "recognizable": d.recognizable,
        "nonrecognition_reasons": list(d.nonrecognition_reasons),
        "delay_reasons": list(d.delay_reasons),
        "notes": d.notes,
        "feedback": d.feedback,
        "signed_off": d.signed_off,
        "exclusion_valid": d.exclusion_valid,
        "reviewer": d.reviewer,
        "reviewed_at": iso(d.reviewed_at),
    }


def timeline_entry_json(e: TimelineEntry) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "kind": e.kind,
        "at": iso(e.at),
        "seconds": e.seconds,
        "source": e.source,
        "actor": e.actor,
        "description": e.description,
        "alert": e.alert,
        "recognition": e.recognition,
        "corrected_at": iso(e.corrected_at),
        "corrected_seconds": e.corrected_seconds,
    }


def audit_json(d: AuditDraft) -> dict[str, Any]:
    """One call's audit draft: `GET …/audit` and each of the JSON export's `audits`."""
    answers, tcpr = d.answers, d.tcpr
    return {
        "agency": d.agency,
        "call_id": d.call_id,
        "benchmark_profile": d.profile.name,
        "t0": iso(d.t0),
        "t0_source": d.t0_source,
        "timestamps": {name: iso(t) for name, t in d.timestamps.items()},
        "corrections": {kind: iso(t) for kind, t in d.corrections.items()},
        "original_times": {kind: iso(t) for kind, t in d.original_times.items()},
        "intervals": dict(d.intervals),
        "benchmarks": benchmarks_json(d.benchmarks),
        "dispatch_met": d.dispatch_met,
        "thresholds": {
            "recognition_s": d.profile.recognition_s,
            "first_compression_s": d.profile.first_compression_s,
        },
        "recognized": d.recognized,
        "recognition_path": d.recognition_path,
        "recognition_after_arrival": d.recognition_after_arrival,
        "answers": {
            "conscious": answers.conscious,
            "breathing": answers.breathing,
            "breathing_confirmed": answers.breathing_confirmed,
            "breathing_agonal": answers.breathing_agonal,
        },
        "verify_breathing": d.verify_breathing,
        "in_scope": d.in_scope,
        "nature": nature_json(d.nature),
        "telecommunicator": d.telecommunicator,
        "psap": d.psap,
        "units": list(d.units),
        "tcpr": {
            "started": tcpr.started,
            "variant": tcpr.variant,
            "language": tcpr.language,
            "protocol": tcpr.protocol,
            "first_compression": tcpr.first_compression,
            "not_given_reason": tcpr.not_given_reason,
            "not_given_note": tcpr.not_given_note,
            "excluded": tcpr.excluded,
            "exclusion_valid": tcpr.exclusion_valid,
            "excluded_when_reviewed": tcpr.excluded_when_reviewed,
        },
        "alerts": list(d.alerts),
        "live": d.live,
        "ems_outcome": dict(d.ems_outcome) if d.ems_outcome is not None else None,
        "in_population": d.in_population,
        "over_triage": d.over_triage,
        "suggested_reasons": [suggestion_json(s) for s in d.suggested_reasons],
        "review": dict(d.review) if d.review is not None else None,
        "determination": determination_json(d.determination),
        "reviewed": d.reviewed,
        "signed_off": d.signed_off,
        "qi_reviewed": d.signed_off,
        "timeline": [timeline_entry_json(e) for e in d.timeline],
        "event_count": d.event_count,
    }


def telecommunicator_row_json(row: TelecommunicatorRow) -> dict[str, Any]:
    """One row of `GET /api/v1/measures/telecommunicators`: the figures, then the card."""
    f, c = row.figures, row.card
    return {
        "telecommunicator": f.telecommunicator,
        "calls": f.calls,
        "population": f.population,
        "recognized": f.recognized,
        "recognition_rate": f.recognition_rate,
        "tcpr_rate": f.tcpr_rate,
        "median_seconds_to_recognition": f.median_seconds_to_recognition,
        "median_seconds_to_first_compression": f.median_seconds_to_first_compression,
        "recognition_met": f.recognition_met,
        "first_compression_met": f.first_compression_met,
        "goals_met": {"recognition": f.goals_met.recognition, "tcpr": f.goals_met.tcpr},
        "reviewed": f.reviewed,
        "reasons": f.reasons,
        "card": {
            "headline": c.headline,
            "verdict": c.verdict,
            "strengths": list(c.strengths),
            "opportunities": list(c.opportunities),
        },
    }


def performance_json(p: Performance) -> dict[str, Any]:
    """One entry of the recognition list (`GET /api/v1/measures/recognition`)."""
    return {
        "call_id": p.call_id,
        "telecommunicator": p.telecommunicator,
        "t0": p.t0.isoformat(),
        "to_recognition": p.to_recognition,
        "to_first_compression": p.to_first_compression,
        "ems_confirmed": p.ems_confirmed,
        "why": p.why,
    }
