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


def _aware(record: Record) -> datetime | None:
    try:
        at = _at(record)
    except ValueError:
        return None
    return at if at.utcoffset() is not None else None


def _timeline(records: list[Record]) -> list[tuple[datetime, Record]]:
    """Records with the time to play them at. One whose time is missing its offset or is not a
    time at all plays beside the record before it: it is still sent, so the service refuses it
    and keeps it in the reject store, rather than the replay failing or dropping it."""
    out: list[tuple[datetime, Record]] = []
    previous: datetime | None = None
    pending: list[Record] = []
    for r in records:
        when = _aware(r)
        if when is None:
            if previous is None:
                pending.append(r)
            else:
                out.append((previous, r))
            continue
        previous = when
        out.extend((when, p) for p in pending)
        pending.clear()
        out.append((when, r))
    if pending:  # nothing in the file had a usable time
        now = datetime.now().astimezone()
        out.extend((now, p) for p in pending)
    out.sort(key=lambda pair: pair[0])
    return out


def retime(records: list[Record], start: datetime, suffix: str = "") -> list[Record]:
    """Shift every time so the first event happens at `start` (each keeps its own UTC offset),
    and make call and event ids unique with `suffix`, so a recording can play again as new calls."""
    times = [t for t in map(_aware, records) if t is not None]
    if not times:
        return [dict(r) for r in records]
    shift = start - min(times)
    out = []
    for r in records:
        at = _aware(r)
        moved = dict(r) if at is None else dict(r, at=(at + shift).isoformat())
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
    ordered = _timeline(records)
    loop = asyncio.get_running_loop()
    began = loop.time()
    i = 0
    while i < len(ordered):
        at = ordered[i][0]
        batch = [r for when, r in ordered[i:] if when == at]
        due = began + (at - ordered[0][0]).total_seconds() / speed
        await asyncio.sleep(max(0.0, due - loop.time()))
        await send(batch)
        i += len(batch)
    return i


def gap_seconds(records: list[Record]) -> float:
    times = [t for t in map(_aware, records) if t is not None]
    if not times:
        return 0.0
    return (max(times) - min(times)) / timedelta(seconds=1)
