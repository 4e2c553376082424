"""Background tasks a component starts with itself and ends with itself."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)


async def stop_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel every task, then wait for each to finish (its cancellation swallowed)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def supervise(
    run: Callable[[], Awaitable[None]],
    what: str,
    *,
    retry_after: float = 1.0,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Run `run` for good: when it returns it starts again at once; when it fails the failure
    is logged and it starts again after `retry_after` seconds (a broker or database that is
    down is not hammered). `on_failure` is told of each failure before the wait."""
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            if on_failure is not None:
                on_failure()
            log.exception("%s failed; retrying", what)
            await asyncio.sleep(retry_after)


async def periodically(every_s: float, action: Callable[[], object], what: str) -> None:
    """Run `action` every `every_s` seconds for good; a failing run is logged, not fatal."""
    while True:
        await asyncio.sleep(every_s)
        try:
            result = action()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("%s failed", what)
