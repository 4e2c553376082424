"""Plays a scenario's CAD events live: each stored at its time, through the same ingest as
`POST /api/v1/events` (durable, hash-chained, then fanned out by the live view to every replica's
panels), so the trainee's panel sees the call as it would a real CAD's.

The player runs in the replica that got the trainer's request. Before each event it looks in
the store for the call's `call.ended`: a scenario stopped on another replica (or by the session
ending) is not played on. Event ids derive from the call, so nothing played twice is stored twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from contract.kinds import Kind
from contract.wire import CanonicalEvent
from service import ingest
from service.refused import Conflicting
from service.store.events import EventStore
from service.tasks import stop_all

log = logging.getLogger(__name__)
ATTEMPTS: Final = 5
RETRY_S: Final = 1.0


class Player:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def play(self, records: Sequence[dict[str, Any]], start: datetime) -> None:
        """Store each record (all of one call) when its `at` comes, counted from `start` = now."""
        call_id = str(records[0]["call_id"])
        task = asyncio.create_task(self._play(list(records), start), name=f"training-{call_id}")
        self._tasks[call_id] = task
        task.add_done_callback(lambda done: self._forget(call_id, done))

    def playing(self, call_id: str) -> bool:
        return call_id in self._tasks

    async def cancel(self, call_id: str) -> None:
        task = self._tasks.pop(call_id, None)
        if task is not None:
            await stop_all([task])

    async def close(self) -> None:
        await stop_all(list(self._tasks.values()))
        self._tasks.clear()

    def _forget(self, call_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(call_id) is task:
            del self._tasks[call_id]

    async def _play(self, records: list[dict[str, Any]], start: datetime) -> None:
        loop = asyncio.get_running_loop()
        begun = loop.time()
        agency, call_id = str(records[0]["agency"]), str(records[0]["call_id"])
        for i, record in enumerate(records):
            due = (datetime.fromisoformat(record["at"]) - start).total_seconds()
            await asyncio.sleep(max(0.0, begun + due - loop.time()))
            if i and await self._ended(agency, call_id):
                return
            await self._store_one(record)

    async def _ended(self, agency: str, call_id: str) -> bool:
        events = await self._store.call_events(agency, call_id)
        return any(e.kind == Kind.CALL_ENDED for e in events)

    async def _store_one(self, record: dict[str, Any]) -> None:
        event = CanonicalEvent.model_validate(record).to_event()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await ingest.store(self._store, [event], single=True)
                return
            except Conflicting:
                log.warning("training event %s already stored otherwise", event.event_id)
                return
            except Exception:
                if attempt == ATTEMPTS:
                    log.exception("training event %s not stored; giving up", event.event_id)
                    return
                log.warning("training event %s not stored; retrying", event.event_id)
                await asyncio.sleep(RETRY_S)


async def store_record(store: EventStore, record: dict[str, Any]) -> bool:
    """Store one record now; False when its id was already stored with other content."""
    try:
        await ingest.store(store, [CanonicalEvent.model_validate(record).to_event()], single=True)
    except Conflicting:
        return False
    return True
