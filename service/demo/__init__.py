"""The demo feed `tcpr serve --demo` plays on a loop: a few recorded calls (recognised fast,
recognised late, not recognised after the caller described normal breathing, a T-CPR refusal, an
awake chest pain) re-timed to now each loop. Every call ends as a real one would, so the board
does not collect stale calls loop after loop.
Before the first loop, an empty demo agency is given a year of past calls (service.demo.history)
so the QI pages have audits and trends to show."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contract.wire import CanonicalEvent
from service.demo.history import history
from service.replay import Record, gap_seconds, load_jsonl, play, retime
from service.store.events import EventStore

log = logging.getLogger(__name__)
RECORDING = Path(__file__).parent / "demo.jsonl"
DEMO_AGENCY = "DEMO"
# The demo's training agency: a trainer plays scenarios from /ui/trainer.html into a trainee's
# panel, kept out of DEMO's figures.
DEMO_TRAINING_AGENCY = "DEMO-TRAIN"
PAUSE_BETWEEN_LOOPS_S = 20.0


HISTORY_BATCH = 1000


async def seed_history(store: EventStore, now: datetime) -> int:
    """Store a year of past demo calls unless the demo agency already has calls before today;
    returns how many events were stored."""
    day_ago = now - timedelta(days=1)
    if await store.summaries(DEMO_AGENCY, now - timedelta(days=400), day_ago):
        return 0
    past = history(now - timedelta(hours=2))
    events = [CanonicalEvent.model_validate(r).to_event() for r in past]
    for i in range(0, len(events), HISTORY_BATCH):
        await store.append(events[i : i + HISTORY_BATCH])
    log.info("demo: seeded %d events of past calls for the QI pages", len(events))
    return len(events)


async def run_demo(store: EventStore) -> None:
    """The live demo loop, and beside it (so live calls show at once) the past calls' seeding."""

    async def seed() -> None:
        try:
            await seed_history(store, datetime.now(UTC))
        except Exception:
            log.exception("demo: seeding past calls failed; the live demo goes on")

    seeding = asyncio.create_task(seed(), name="demo-history")
    try:
        await play_demo(store)
    finally:
        seeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await seeding


async def play_demo(store: EventStore, recording: Path = RECORDING) -> None:
    records = load_jsonl(recording)

    async def send(batch: list[Record]) -> None:
        await store.append([CanonicalEvent.model_validate(r).to_event() for r in batch])

    while True:
        start = datetime.now(UTC)
        suffix = start.strftime("-%y%m%d%H%M%S")
        log.info("demo loop %s: %d events over %.0f s", suffix, len(records), gap_seconds(records))
        try:
            await play(retime(records, start, suffix), send)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("demo loop failed")
        await asyncio.sleep(PAUSE_BETWEEN_LOOPS_S)
