"""What a panel shows of a call: its phase, key times and the benchmark deadlines.

Clocks are drawn in the browser from `t0` and a measured server-clock offset, so this view
carries instants and deadlines, never a ticking elapsed count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from service.triage.intervals import benchmarks, intervals
from service.triage.profiles import BenchmarkProfile
from service.triage.state import CallState, phase


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def call_view(state: CallState, profile: BenchmarkProfile) -> dict[str, Any]:
    t0 = state.t0
    deadlines = (
        {name: _iso(t0 + timedelta(seconds=s)) for name, s in profile.alert_offsets().items()}
        if t0 is not None
        else {}
    )
    return {
        "agency": state.agency,
        "call_id": state.call_id,
        "t0": _iso(t0),
        "phase": phase(state),
        "live": state.live,
        "telecommunicator": state.telecommunicator,
        "answered_at": _iso(state.answered_at),
        "conscious": state.conscious,
        "breathing": state.breathing,
        "ruled_out": state.ruled_out,
        "recognized": state.recognized,
        "recognized_at": _iso(state.recognition_time),
        "recognition_path": state.path,
        "tcpr_started_at": _iso(state.tcpr_started_at),
        "first_compression_at": _iso(state.first_compression_at),
        "not_given_reason": state.not_given_reason,
        "ended_at": _iso(state.ended_at),
        "nature": {"code": state.nature_code, "text": state.nature_text},
        "units": list(state.units),
        "alerts": list(state.alerts),
        "intervals": intervals(state),
        "benchmarks": benchmarks(state, profile),
        "benchmark_profile": profile.name,
        "deadlines": deadlines,
    }
