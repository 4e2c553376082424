"""The live view: every live call's state, applied in global sequence order.

It applies this replica's own commits directly (with the call states the store's projection
computed), is fed the other replicas' by the broker for latency, and checks continuity against
the log: a gap in the sequence, a dropped subscription or a quiet period sends it back to the
store for whatever it missed, so panels are never left behind by a lost message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contract.event import Event, as_dict, from_dict
from service.broker import Broker, BrokerClosed
from service.clock import Clock, system_clock
from service.serialise import call_view_json
from service.settings import Settings
from service.store.events import EventStore
from service.tasks import periodically, stop_all, supervise
from service.triage.call_state import CallState
from service.triage.state import fold, step
from service.triage.view import call_view

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Update:
    """One stored event applied to its call; `state` is the call after it."""

    seq: int
    event: Event
    state: CallState


Listener = Callable[[Update], None]
# A call that left the live views without `call.ended` (the CAD never ended it): (agency, call).
GoneListener = Callable[[CallState], None]
SWEEP_EVERY_S = 30.0


def encode_batch(
    events: Iterable[Event], new_calls: Iterable[tuple[str, str]] = (), *, origin: str = ""
) -> str:
    """A broker message: stored events, which calls they created (so no replica needs to read
    those calls' history from the log), and the replica that stored them (first, so that
    replica recognises its own message without decoding it)."""
    body = {
        "origin": origin,
        "events": [as_dict(e) for e in events],
        "new_calls": [list(c) for c in new_calls],
    }
    return json.dumps(body, separators=(",", ":"))


class LiveView:
    def __init__(
        self,
        store: EventStore,
        broker: Broker,
        settings: Settings,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._broker = broker
        self._settings = settings
        self._clock = clock
        self.calls: dict[tuple[str, str], CallState] = {}
        self.seq = 0
        self._listeners: list[Listener] = []
        self._gone_listeners: list[GoneListener] = []
        self._apply_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        # This replica applies its own commits directly; the broker carries them to the others
        # only, tagged with this id, and a message bearing it is passed over unread. On the
        # in-process broker there are no others: nothing is published.
        self.origin = secrets.token_hex(8)
        self._own = encode_batch((), origin=self.origin).split('"events"', 1)[0]
        self._in_process = bool(getattr(broker, "in_process", False))
        # Events applied from the log rather than from this replica's commits or the broker:
        # what the broker lost, reordered or had not delivered yet (tcpr_broker_gap_fills_total).
        self.gap_fills = 0

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_gone(self, listener: GoneListener) -> None:
        self._gone_listeners.append(listener)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the live calls from the store, then follow the broker and the log."""
        self.seq = await self._store.high_water()
        cutoff = self._clock() - timedelta(seconds=self._settings.live_call_max_age_seconds)
        by_call: dict[tuple[str, str], list[Event]] = {}
        for e in await self._store.live_call_events(cutoff):
            by_call.setdefault((e.agency, e.call_id), []).append(e)
        for (agency, call_id), events in by_call.items():
            state = fold(agency, call_id, events, self._settings.agency_config(agency))
            self.calls[(agency, call_id)] = state
            self._notify(Update(events[-1].arrival, events[-1], state))
        subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._follow_broker(subscribed), name="live-broker"),
            asyncio.create_task(
                periodically(
                    self._settings.catch_up_interval_seconds,
                    self.catch_up,
                    "catch-up from the log",
                ),
                name="live-poll",
            ),
            asyncio.create_task(
                periodically(
                    min(SWEEP_EVERY_S, self._settings.live_call_max_age_seconds / 4),
                    self.sweep,
                    "sweeping stale live calls",
                ),
                name="live-sweep",
            ),
        ]
        await subscribed.wait()
        await self.catch_up()  # anything committed between the rebuild and the subscription

    async def stop(self) -> None:
        await stop_all(self._tasks)

    async def committed(
        self, events: list[Event], new_calls: set[tuple[str, str]], states: list[CallState]
    ) -> None:
        """The store's commit hook: apply this replica's own commit here, with each event's call
        state as the store's projection computed it (no second fold), then tell the other
        replicas. Commits reach this hook one at a time in commit order; a gap before them (an
        other replica's events not yet received) is read from the log, as for any gap."""
        try:
            await self.apply(events, new_calls, states)
        finally:
            if not self._in_process:
                message = encode_batch(events, new_calls, origin=self.origin)
                await self._broker.publish(self._settings.broker_channel, message)

    async def _receive(self, message: str) -> None:
        if message.startswith(self._own):
            return  # this replica's own commit, applied when it was made
        body = json.loads(message)
        new_calls = {(a, c) for a, c in body.get("new_calls", ())}
        await self.apply([from_dict(d) for d in body["events"]], new_calls)

    async def _follow_broker(self, subscribed: asyncio.Event) -> None:
        async def once() -> None:
            try:
                async with self._broker.subscribe(self._settings.broker_channel) as messages:
                    subscribed.set()
                    async for message in messages:
                        await self._receive(message)
            except BrokerClosed:
                log.warning("broker subscription closed; catching up from the log")
                await self.catch_up()

        await supervise(once, "live view broker listener")

    def sweep(self) -> list[CallState]:
        """Calls the CAD never ended leave the live views `live_call_max_age_seconds` after
        their T0 (the rule the board states); they stay in the log, the audits and measures."""
        gone = [s for key, s in list(self.calls.items()) if not self._is_live(s)]
        for state in gone:
            self.calls.pop((state.agency, state.call_id), None)
            for listener in self._gone_listeners:
                try:
                    listener(state)
                except Exception:
                    log.exception("live view gone listener failed")
        return gone

    async def catch_up(self) -> None:
        while True:
            missed = await self._store.events_since(self.seq, limit=5000)
            if not missed:
                return
            await self.apply(missed, from_log=True)

    # -- applying events --------------------------------------------------------------------
    async def apply(
        self,
        events: list[Event],
        new_calls: set[tuple[str, str]] | None = None,
        states: list[CallState] | None = None,
        *,
        from_log: bool = False,
    ) -> None:
        """Apply stored events in sequence order; `new_calls` have no history before these;
        `states` (aligned with `events`, when the store computed them) are each event's call
        state right after it, so the call is not folded again here. `from_log`: read from the
        log by the catch-up, so each one applied is a gap filled."""
        new_calls = new_calls or set()
        after = {e.arrival: s for e, s in zip(events, states, strict=True)} if states else {}
        async with self._apply_lock:
            for e in sorted(events, key=lambda e: e.arrival):
                if e.arrival <= self.seq:
                    continue  # already applied
                if e.arrival > self.seq + 1:
                    # A gap: a message lost or reordered. The log has whatever is committed.
                    for missed in await self._store.events_since(self.seq, limit=100_000):
                        if missed.arrival >= e.arrival:
                            break
                        await self._apply_one(missed, new_calls)
                        self.gap_fills += 1
                await self._apply_one(e, new_calls, after.get(e.arrival))
                if from_log:
                    self.gap_fills += 1

    async def _apply_one(
        self, e: Event, new_calls: set[tuple[str, str]], known: CallState | None = None
    ) -> None:
        key = (e.agency, e.call_id)
        state = self.calls.get(key)
        config = self._settings.agency_config(e.agency)
        if known is not None:
            new_calls.discard(key)
            state = known
        elif state is None and key in new_calls:
            new_calls.discard(key)  # its later events either find it here or in the log
            state = fold(e.agency, e.call_id, [e], config)
        elif state is None:
            # New to this view: the log has the whole call (this event included).
            events = await self._store.call_events(e.agency, e.call_id)
            state = fold(e.agency, e.call_id, events or [e], config)
        else:
            state = step(state, e, config)
        self.seq = max(self.seq, e.arrival)
        if self._is_live(state):
            self.calls[key] = state
        else:
            self.calls.pop(key, None)
        self._notify(Update(e.arrival, e, state))

    def _is_live(self, state: CallState) -> bool:
        t0 = state.t0
        if not state.live or t0 is None:
            return False
        age = self._clock() - t0
        return age <= timedelta(seconds=self._settings.live_call_max_age_seconds)

    def _notify(self, update: Update) -> None:
        for listener in self._listeners:
            try:
                listener(update)
            except Exception:
                log.exception("live view listener failed")

    # -- reads ------------------------------------------------------------------------------
    def snapshot(self, agencies: frozenset[str]) -> dict[str, Any]:
        states = [s for (agency, _), s in self.calls.items() if agency in agencies]
        states.sort(key=lambda s: (s.t0 is None, s.t0 or datetime.min.replace(tzinfo=UTC)))
        calls = [
            call_view_json(call_view(s, self._settings.agency_config(s.agency))) for s in states
        ]
        return {"type": "snapshot", "seq": self.seq, "calls": calls}
