"""What a panel shows of a call: its phase, key times and the benchmark deadlines.

Clocks are drawn in the browser from `t0` and a measured server-clock offset, so this view
carries instants and deadlines, never a ticking elapsed count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.triage.events import iso
from service.triage.intervals import benchmarks, intervals
from service.triage.profiles import BenchmarkProfile
from service.triage.state import CallState, phase


def call_view(state: CallState, profile: BenchmarkProfile) -> dict[str, Any]:
    t0 = state.t0
    deadlines = (
        {name: iso(t0 + timedelta(seconds=s)) for name, s in profile.alert_offsets().items()}
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
        "ruled_out": state.ruled_out,
        "recognized": state.recognized,
        "recognized_at": iso(state.recognition_time),
        "recognition_path": state.path,
        "tcpr_started_at": iso(state.tcpr_started_at),
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
