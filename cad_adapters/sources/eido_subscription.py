"""A NENA-STA-024 EIDO subscription: the CAD's notifier pushes EIDO documents over a
websocket (`cad_adapters.eido_ws`); each is spooled before it is acknowledged."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cad_adapters.sources.reader import Reader, eido_entry


async def eido_websocket(
    url: str,
    agency: str,
    reader: Reader,
    stop: asyncio.Event,
    headers: dict[str, str],
    max_message_bytes: int,
) -> None:
    """Subscribe to the CAD's NENA-STA-024 notifier; each EIDO is spooled before it is acked,
    and whatever else a notification holds (not an object, not JSON) is spooled as a reject."""
    from cad_adapters.eido_ws import subscribe

    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        raw = json.dumps(document).encode()
        entry = eido_entry(raw, agency, url, f"transaction {transaction}", reader)
        reader.commit([entry])

    async def on_bad(raw: str, reason: str, transaction: str | None) -> None:
        where = f"transaction {transaction}" if transaction else "message"
        reader.read += 1
        bad = reader.reject(raw.encode("utf-8", "backslashreplace"), url, where, reason, "body")
        reader.commit([bad])

    await subscribe(
        url, on_eido, headers=headers, stop=stop, on_bad=on_bad, max_size=max_message_bytes
    )
