"""The demo feed `tcpr serve --demo` plays on a loop: a few recorded calls (recognised fast,
recognised late, not recognised, a T-CPR refusal, one left open) re-timed to now each loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from service.api.wire import CanonicalEvent
from service.replay import Record, gap_seconds, load_jsonl, play, retime
from service.store.events import EventStore

log = logging.getLogger(__name__)
RECORDING = Path(__file__).parent / "demo.jsonl"
DEMO_AGENCY = "DEMO"
PAUSE_BETWEEN_LOOPS_S = 20.0


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
