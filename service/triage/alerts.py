"""The elapsed-time alert schedule (DESIGN.md §4), as pure functions of state and a given `now`.

- `recognition_due` / `recognition_overdue` while the call is neither recognised nor ruled out (a
  call whose breathing is still to verify is not ruled out: its alerts keep running);
- `compression_due` / `compression_overdue` while recognised, with no first compression and no
  `tcpr.not_given`;
- `dispatch_overdue` (where the agency turns dispatch alerts on) at the recognition benchmark,
  when the call has a `no` / `unsure` answer or is recognised and no unit is dispatched;
each only while the call is live and in the agency's alert scope, each once per call, at T0 + the
profile's offset.

A deadline that passed more than `grace` before `now` is not fired late: that is a replayed or
long-abandoned call, not one a telecommunicator is on. The grace is wide enough that a restart
still fires whatever fell due while the service was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from service.triage.call_state import CallState
from service.triage.profiles import BenchmarkProfile

DEFAULT_GRACE: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, order=True)
class RaiseAlert:
    """Effect: persist `alert.raised` for this call and push it to its panels."""

    deadline: datetime
    alert: str
    agency: str
    call_id: str

    @property
    def event_id(self) -> str:
        """Deterministic, so the store's unique key makes the alert exactly-once."""
        return f"alert:{self.call_id}:{self.alert}"


def applicable(
    state: CallState, profile: BenchmarkProfile, *, dispatch_alerts: bool = False
) -> list[RaiseAlert]:
    """Alerts the call's current state still calls for, not yet fired, with their deadlines."""
    t0 = state.t0
    if t0 is None or not state.live or not state.in_scope:
        return []
    offsets = profile.alert_offsets()
    names: tuple[str, ...]
    if not state.recognized and not state.ruled_out:
        names = ("recognition_due", "recognition_overdue")
    elif state.recognized and state.first_compression_at is None and not state.tcpr_not_given:
        names = ("compression_due", "compression_overdue")
    else:
        names = ()
    if dispatch_alerts and needs_dispatch(state):
        names = (*names, "dispatch_overdue")
    return sorted(
        RaiseAlert(t0 + timedelta(seconds=offsets[n]), n, state.agency, state.call_id)
        for n in names
        if n not in state.alerts
    )


def needs_dispatch(state: CallState) -> bool:
    """A `no` / `unsure` to either question, or a recognised arrest, and no unit dispatched yet."""
    return state.dispatch_called_for and state.dispatched_at is None


def due(
    state: CallState,
    profile: BenchmarkProfile,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    *,
    dispatch_alerts: bool = False,
) -> list[RaiseAlert]:
    """Alerts to fire at `now`."""
    return [
        a
        for a in applicable(state, profile, dispatch_alerts=dispatch_alerts)
        if now - grace <= a.deadline <= now
    ]


def next_deadline(
    state: CallState,
    profile: BenchmarkProfile,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    *,
    dispatch_alerts: bool = False,
) -> datetime | None:
    """When the scheduler must look at this call again, or None if nothing more can fire."""
    pending = [
        a.deadline
        for a in applicable(state, profile, dispatch_alerts=dispatch_alerts)
        if a.deadline >= now - grace
    ]
    return min(pending, default=None)
