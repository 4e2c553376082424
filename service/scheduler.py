"""Alert timers: the shell around `service.triage.alerts`.

Each live call's next deadline is derived from its state and the source clock, kept in a heap
and re-derived whenever the call changes. A fired alert is appended to the log as `alert.raised`
with a deterministic id, so the store's unique key makes it exactly-once; it reaches the panels
through the same path as every other event. After a restart the live view replays the live
calls into this scheduler, and whatever fell due meanwhile fires then (within the grace).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from datetime import datetime, timedelta

from contract.event import Event
from contract.kinds import Kind
from service.clock import Clock, system_clock
from service.live import LiveView, Update
from service.metrics import Metrics
from service.settings import Settings
from service.store.events import EventConflict, EventStore
from service.triage import alerts
from service.triage.alerts import RaiseAlert

log = logging.getLogger(__name__)


class AlertScheduler:
    def __init__(
        self,
        live: LiveView,
        store: EventStore,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._live = live
        self._metrics = metrics
        self._store = store
        self._settings = settings
        self._clock = clock
        self._grace = timedelta(seconds=settings.alert_grace_seconds)
        self._heap: list[tuple[datetime, str, str]] = []
        self._scheduled: dict[tuple[str, str], datetime] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0  # alerts this scheduler recorded in the log

    def on_update(self, update: Update) -> None:
        state = update.state
        key = (state.agency, state.call_id)
        config = self._settings.agency_config(state.agency)
        deadline = alerts.next_deadline(
            state,
            config.profile,
            self._clock(),
            self._grace,
            dispatch_alerts=config.dispatch_alerts,
        )
        if deadline is None:
            self._scheduled.pop(key, None)
            return
        if self._scheduled.get(key) == deadline:
            return
        self._scheduled[key] = deadline
        heapq.heappush(self._heap, (deadline, *key))
        if self._heap[0][0] == deadline:
            self._wake.set()

    def wake(self) -> None:
        """Read the clock again now rather than at the next deadline (a clock that jumps)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if not self._heap:
                await self._wake.wait()
                continue
            delay = (self._heap[0][0] - self._clock()).total_seconds()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                continue
            # Every call due now fires together: their appends share one group commit, so a
            # burst of deadlines (a busy minute, the calls replayed after a restart) costs one
            # commit, not one commit per call queued behind the ingest load.
            due = self._pop_due(self._clock())
            outcomes = await asyncio.gather(
                *(self.fire(agency, call_id) for _, agency, call_id in due),
                return_exceptions=True,
            )
            failed = False
            for (deadline, agency, call_id), outcome in zip(due, outcomes, strict=True):
                if isinstance(outcome, EventConflict):
                    # Another replica recorded this alert with other content (replicas
                    # configured with different profiles): recorded once all the same.
                    log.error(
                        "alert for %s/%s already recorded differently: %s", agency, call_id, outcome
                    )
                elif isinstance(outcome, BaseException):
                    log.error(
                        "firing alerts for %s/%s failed; retrying",
                        agency,
                        call_id,
                        exc_info=outcome,
                    )
                    self._reschedule(agency, call_id, deadline)
                    failed = True
            if failed:
                await asyncio.sleep(0.5)

    def _pop_due(self, now: datetime) -> list[tuple[datetime, str, str]]:
        """The heap's entries due by `now` that are still each call's current deadline."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            deadline, agency, call_id = heapq.heappop(self._heap)
            if self._scheduled.get((agency, call_id)) != deadline:
                continue  # superseded by a newer deadline for this call
            del self._scheduled[(agency, call_id)]
            due.append((deadline, agency, call_id))
        return due

    def _reschedule(self, agency: str, call_id: str, deadline: datetime) -> None:
        self._scheduled[(agency, call_id)] = deadline
        heapq.heappush(self._heap, (deadline, agency, call_id))

    async def fire(self, agency: str, call_id: str) -> list[RaiseAlert]:
        """Append whatever is due for the call now; the log's key keeps each alert single."""
        state = self._live.calls.get((agency, call_id))
        if state is None or state.t0 is None:
            return []
        config = self._settings.agency_config(agency)
        profile = config.profile
        due = alerts.due(
            state, profile, self._clock(), self._grace, dispatch_alerts=config.dispatch_alerts
        )
        if due:
            offsets = profile.alert_offsets()
            tz = state.t0.tzinfo
            appended = await self._store.append(
                [
                    Event(
                        event_id=a.event_id,
                        call_id=call_id,
                        agency=agency,
                        kind=Kind.ALERT_RAISED,
                        at=a.deadline.astimezone(tz),
                        source="system",
                        data={
                            "alert": a.alert,
                            "threshold_s": offsets[a.alert],
                            "benchmark_profile": profile.name,
                        },
                    )
                    for a in due
                ]
            )
            # Only what this append recorded: an alert another replica recorded first is
            # counted there, so across replicas each alert counts once.
            recorded = [
                a for a, o in zip(due, appended.outcomes, strict=True) if o.status == "accepted"
            ]
            self.fired += len(recorded)
            if self._metrics is not None:
                # Late by the time it is committed: what a panel waits, less the push.
                now = self._clock()
                for a in recorded:
                    self._metrics.alert_fired(a.alert, (now - a.deadline).total_seconds())
        return due
