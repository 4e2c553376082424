"""What a panel shows of a call: its phase, key times and the benchmark deadlines.

Clocks are drawn in the browser from `t0` and a measured server-clock offset, so this view
carries instants and deadlines, never a ticking elapsed count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from contract.payloads import Nature
from service.triage.alerts import needs_dispatch
from service.triage.call_state import CallState, phase
from service.triage.intervals import Benchmarks, benchmarks, intervals
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig


@dataclass(frozen=True, slots=True)
class CallView:
    """One call as its panel shows it (the ws `call` and `snapshot` messages, DESIGN.md §8)."""

    agency: str
    call_id: str
    t0: datetime | None
    phase: str
    live: bool
    telecommunicator: str | None
    answered_at: datetime | None
    conscious: str | None
    breathing: str | None
    breathing_confirmed: bool
    ruled_out: bool
    # The agonal-breathing trap: have the caller describe the breathing (§3).
    verify_breathing: bool
    # Out of the agency's alert scope: shown apart, raises nothing (§4).
    in_scope: bool
    dispatched_at: datetime | None
    # Dispatch in parallel: a `no` / `unsure` or a recognition, and no unit yet.
    needs_dispatch: bool
    dispatch_alerts: bool
    recognized: bool
    recognized_at: datetime | None
    recognition_path: str | None
    tcpr_started_at: datetime | None
    # As recorded on `tcpr.started`: a panel reloaded mid-call resumes the same script.
    tcpr_variant: str | None
    tcpr_language: str | None
    first_compression_at: datetime | None
    not_given_reason: str | None
    ended_at: datetime | None
    nature: Nature
    units: tuple[str, ...]
    alerts: tuple[str, ...]
    intervals: Mapping[str, float | None]
    benchmarks: Benchmarks
    benchmark_profile: str
    # A scenario in a training agency: panels and boards say TRAINING and keep it apart.
    training: bool
    # Alert name -> when it falls due; empty until the call has a T0.
    deadlines: Mapping[str, datetime]


def call_view(state: CallState, config: AgencyConfig = DEFAULT_CONFIG) -> CallView:
    t0 = state.t0
    profile = config.profile
    offsets = profile.alert_offsets()
    if not config.dispatch_alerts:
        del offsets["dispatch_overdue"]
    deadlines = (
        {name: t0 + timedelta(seconds=s) for name, s in offsets.items()} if t0 is not None else {}
    )
    return CallView(
        agency=state.agency,
        call_id=state.call_id,
        t0=t0,
        phase=phase(state),
        live=state.live,
        telecommunicator=state.telecommunicator,
        answered_at=state.answered_at,
        conscious=state.conscious,
        breathing=state.breathing,
        breathing_confirmed=state.breathing_confirmed,
        ruled_out=state.ruled_out,
        verify_breathing=state.verify_breathing,
        in_scope=state.in_scope,
        dispatched_at=state.dispatched_at,
        needs_dispatch=needs_dispatch(state),
        dispatch_alerts=config.dispatch_alerts,
        recognized=state.recognized,
        recognized_at=state.recognized_at,
        recognition_path=state.path,
        tcpr_started_at=state.tcpr_started_at,
        tcpr_variant=state.tcpr_variant,
        tcpr_language=state.tcpr_language,
        first_compression_at=state.first_compression_at,
        not_given_reason=state.not_given_reason,
        ended_at=state.ended_at,
        nature=Nature(code=state.nature_code, text=state.nature_text),
        units=state.units,
        alerts=state.alerts,
        intervals=intervals(state),
        benchmarks=benchmarks(state, profile),
        benchmark_profile=profile.name,
        training=config.training,
        deadlines=deadlines,
    )
