"""Helpers for running adapters in tests: config files, recorded lines, waiting on a spool."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_file(
    tmp_path: Path,
    url: str,
    token: str,
    source: dict[str, Any],
    fmt: dict[str, Any] | None = None,
    agency: str = "A",
    name: str = "feed",
) -> Path:
    """An adapter configuration file, written as a centre would write it."""
    (tmp_path / f"{name}.token").write_text(token + "\n")
    fmt = fmt or {"type": "jsonl"}

    def table(values: dict[str, Any]) -> str:
        return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())

    text = (
        f'agency = "{agency}"\n\n[service]\nurl = "{url}"\ntoken_file = "{name}.token"\n\n'
        f"[source]\n{table(source)}\n[format]\n{table(fmt)}"
    )
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def event_line(n: int, call: str = "C1", agency: str = "A", **extra: Any) -> str:
    """One canonical event as a JSON line, the n-th of its call, n seconds after T0."""
    kinds = ("call.received", "call.answered", "unit.dispatched", "unit.on_scene", "call.ended")
    record: dict[str, Any] = {
        "event_id": f"{call}-{n}",
        "call_id": call,
        "agency": agency,
        "kind": kinds[n % len(kinds)],
        "at": (T0 + timedelta(seconds=n)).astimezone().isoformat(),
    }
    if record["kind"].startswith("unit."):
        record["data"] = {"unit": "M1"}
    record.update(extra)
    return json.dumps(record)


async def until(
    check: Callable[[], bool | Awaitable[bool]], limit_s: float = 30.0, what: str = ""
) -> None:
    """Poll `check` (plain or async) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)
