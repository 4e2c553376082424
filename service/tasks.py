"""Background tasks a component starts with itself and ends with itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def stop_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel every task, then wait for each to finish (its cancellation swallowed)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
