"""What a panel shows of a call: its phase, key times and the benchmark deadlines.

Clocks are drawn in the browser from `t0` and a measured server-clock offset, so this view
carries instants and deadlines, never a ticking elapsed count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contract.event import iso
from service.triage.alerts import needs_dispatch
from service.triage.intervals import benchmarks, intervals
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig
from service.triage.state import CallState, phase


def call_view(state: CallState, config: AgencyConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    t0 = state.t0
    profile = config.profile
    offsets = profile.alert_offsets()
    if not config.dispatch_alerts:
        del offsets["dispatch_overdue"]
    deadlines = (
        {name: iso(t0 + timedelta(seconds=s)) for name, s in offsets.items()}
        if t0 is not None
        else {}
    )
    return {
        "agency": state.agency,
        "call_id": state.call_id,
        "t0": iso(t0),
        "phase": phase(state),
        "live": state.live,
        "telecommunicator": state.telecommunicator,
        "answered_at": iso(state.answered_at),
        "conscious": state.conscious,
        "breathing": state.breathing,
        "breathing_confirmed": state.breathing_confirmed,
        "ruled_out": state.ruled_out,
        # The agonal-breathing trap: have the caller describe the breathing (§3).
        "verify_breathing": state.verify_breathing,
        # Out of the agency's alert scope: shown apart, raises nothing (§4).
        "in_scope": state.in_scope,
        "dispatched_at": iso(state.dispatched_at),
        # Dispatch in parallel: a `no` / `unsure` or a recognition, and no unit yet.
        "needs_dispatch": needs_dispatch(state),
        "dispatch_alerts": config.dispatch_alerts,
        "recognized": state.recognized,
        "recognized_at": iso(state.recognized_at),
        "recognition_path": state.path,
        "tcpr_started_at": iso(state.tcpr_started_at),
        # As recorded on `tcpr.started`: a panel reloaded mid-call resumes the same script.
        "tcpr_variant": state.tcpr_variant,
        "tcpr_language": state.tcpr_language,
        "first_compression_at": iso(state.first_compression_at),
        "not_given_reason": state.not_given_reason,
        "ended_at": iso(state.ended_at),
        "nature": {"code": state.nature_code, "text": state.nature_text},
        "units": list(state.units),
        "alerts": list(state.alerts),
        "intervals": intervals(state),
        "benchmarks": benchmarks(state, profile),
        "benchmark_profile": profile.name,
        "deadlines": deadlines,
    }
