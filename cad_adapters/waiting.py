"""Waiting: for a peer that gave no verdict on a request (unreachable, overloaded, 5xx), with
capped exponential backoff or the wait a 429's Retry-After asks for; and for a poll's next turn,
cut short when the adapter is told to stop.

Shared by the adapter's delivery (`deliver.py`), its TCP feed's redialling and `tcpr replay` /
`tcpr simulate --url`, so each waits the same way and none hammers a peer that is struggling.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Final

import httpx

FIRST_WAIT_S: Final = 0.2
# Retry-After is the service's to set: never wait longer than this on its word.
MAX_RETRY_AFTER_S: Final = 60.0


def gave_no_verdict(status: int) -> bool:
    """A 5xx or 429: not an answer about the request, only "not now"; send it again later."""
    return status >= 500 or status == 429


def retry_after(response: httpx.Response, default: float) -> float:
    """The seconds a 429's Retry-After asks for (capped at a minute), else `default`."""
    value = response.headers.get("retry-after", "")
    return min(float(value), MAX_RETRY_AFTER_S) if value.isdigit() else default


@dataclass
class Backoff:
    """Waits of `first` seconds, doubling each time up to `cap`, until `reset`."""

    cap: float
    first: float = FIRST_WAIT_S
    wait: float = field(init=False)

    def __post_init__(self) -> None:
        self.wait = self.first

    def next(self) -> float:
        """The wait before the next try; the one after is twice as long (up to the cap)."""
        now, self.wait = self.wait, min(self.wait * 2, self.cap)
        return now

    def reset(self) -> None:
        self.wait = self.first


async def pause(event: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `event` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
