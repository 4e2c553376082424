"""Replaying recorded feeds: JSON lines of canonical events, played with their recorded gaps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

Record = dict[str, Any]
Send = Callable[[list[Record]], Awaitable[None]]


class RecordingError(ValueError):
    pass


def load_jsonl(path: Path) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(record, dict) or not isinstance(record.get("at"), str):
            raise RecordingError(f"{path}:{number}: not an event object with an 'at' time")
        records.append(record)
    return records


def _at(record: Record) -> datetime:
    return datetime.fromisoformat(record["at"])


def retime(records: list[Record], start: datetime, suffix: str = "") -> list[Record]:
    """Shift every time so the first event happens at `start` (each keeps its own UTC offset),
    and make call and event ids unique with `suffix`, so a recording can play again as new calls."""
    if not records:
        return []
    shift = start - min(_at(r) for r in records)
    out = []
    for r in records:
        at = _at(r)
        moved = dict(r, at=(at + shift).astimezone(at.tzinfo).isoformat())
        if suffix:
            moved["call_id"] = f"{r['call_id']}{suffix}"
            moved["event_id"] = f"{r['event_id']}{suffix}"
        out.append(moved)
    return out


async def play(records: list[Record], send: Send, speed: float = 1.0) -> int:
    """Send events in time order, waiting the recorded gaps divided by `speed`; events that share
    a time go together. Returns how many were sent."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    ordered = sorted(records, key=_at)
    loop = asyncio.get_running_loop()
    began = loop.time()
    first = _at(ordered[0]) if ordered else None
    i = 0
    while i < len(ordered):
        at = _at(ordered[i])
        batch = [r for r in ordered[i:] if _at(r) == at]
        assert first is not None
        due = began + (at - first).total_seconds() / speed
        await asyncio.sleep(max(0.0, due - loop.time()))
        await send(batch)
        i += len(batch)
    return i


def gap_seconds(records: list[Record]) -> float:
    if not records:
        return 0.0
    times = [_at(r) for r in records]
    return (max(times) - min(times)) / timedelta(seconds=1)
