"""`tcpr adapter run CONFIG`: read a CAD source, spool what was read, deliver it to the service.

Reading and delivering run side by side and meet only in the spool: the reader commits each
record before going on, the delivery removes it once the service acknowledged it. Killing the
adapter, the service or the network at any moment loses nothing; on restart the spool resends
what was not acknowledged (duplicates are harmless by the contract) and the reader resumes after
the last spooled line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from cad_adapters.config import AdapterConfig
from cad_adapters.core import Format, ParseError, Record, canonical, decode
from cad_adapters.deliver import Counts, Delivery
from cad_adapters.sources.directory import watch_directory
from cad_adapters.sources.eido_subscription import eido_websocket
from cad_adapters.sources.file import read_file
from cad_adapters.sources.reader import Reader, bare
from cad_adapters.sources.tcp import tcp_lines
from cad_adapters.spool import Spool
from cad_adapters.waiting import pause
from contract import logs

log = logging.getLogger("tcpr.adapter")
# How long a stopping adapter keeps delivering what it already read.
DRAIN_ON_STOP_S = 5.0


class JsonLines:
    """Canonical events, one JSON object a line (the `tcpr replay` recording format)."""

    def stream(self) -> JsonLines:
        return self

    def parse(self, record: bytes) -> list[Record]:
        text = decode(record, "utf-8").strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not JSON: {exc}", "body") from None
        if not isinstance(value, dict):
            raise ParseError("not a JSON object: one canonical event a line", "body")
        return [canonical(value)]


def make_format(config: AdapterConfig) -> Format | None:
    """The parser the configuration names (None for EIDO, parsed per document)."""
    kind = config.format.type
    if kind == "jsonl":
        return JsonLines()
    if kind == "eido":
        return None
    from cad_adapters.delimited import DelimitedFormat
    from cad_adapters.mapping import load_mapping

    spec = config.format.mapping or config.format.preset
    assert spec is not None
    return DelimitedFormat(load_mapping(spec), config.agency)


@dataclass
class Report:
    read: int
    bad: int
    delivered: int
    refused: int
    rejects: int
    spooled: int

    def json(self) -> str:
        return json.dumps(asdict(self))


async def run(config: AdapterConfig, stop: asyncio.Event | None = None) -> Report:
    """Run the adapter until `stop` is set, or, for a file read once, until all of it is read
    and delivered."""
    stop = stop or asyncio.Event()
    logs.install()  # no caller details in the logs, whatever their level
    fmt = make_format(config)
    source = config.source
    # Credentials first: a missing token stops the adapter before it opens anything.
    token = config.service.token()
    cad_headers = source.headers()
    assert config.spool.path is not None and config.spool.dead_letter is not None
    spool = Spool(config.spool.path, config.spool.dead_letter)
    reader = Reader(spool, asyncio.Event(), source.max_line_bytes)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            base_url=config.service.url, headers=headers, timeout=config.service.timeout_seconds
        ) as client:
            delivery = Delivery(spool, client, config.agency, wake=reader.wake)
            if spool.depth():
                log.info("%d entries left in the spool from before: resending", spool.depth())
            deliver_stop = asyncio.Event()
            delivering = asyncio.create_task(delivery.run(deliver_stop), name="deliver")
            # A delivery that dies must stop the adapter (and fail it), never let it read on.
            delivering.add_done_callback(lambda _: stop.set())
            beating: asyncio.Task[None] | None = None
            try:
                if source.type == "file" and not source.follow:
                    assert source.path is not None and fmt is not None
                    await read_file(source.path, fmt, reader, stop)
                    while spool.depth() and not stop.is_set() and not delivering.done():
                        await pause(stop, 0.1)
                else:
                    if config.service.heartbeat_seconds > 0:
                        beat = heartbeat(client, config, stop)
                        beating = asyncio.create_task(beat, name="heartbeat")
                    await _read(config, fmt, reader, stop, cad_headers)
            finally:
                if beating is not None:
                    beating.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await beating
                deliver_stop.set()
                await delivering
                if spool.depth():
                    await delivery.drain(DRAIN_ON_STOP_S)
            return _report(reader, delivery.counts, spool)
    finally:
        spool.close()


def feed_name(config: AdapterConfig) -> str:
    """The feed's name in the service's feed list: the adapter's name, made URL-safe."""
    name = re.sub(r"[^A-Za-z0-9._:-]+", "-", config.name or "").strip("-")[:64]
    return name or "cad"


async def heartbeat(client: httpx.AsyncClient, config: AdapterConfig, stop: asyncio.Event) -> None:
    """Tell the service this live feed is alive, every `service.heartbeat_seconds`, until
    stopped. A failed beat is logged and the next one tried: the events are what matter."""
    params = {"agency": config.agency, "feed": feed_name(config)}
    while not stop.is_set():
        try:
            response = await client.post("/api/v1/feeds/heartbeat", params=params)
            if response.status_code >= 400:
                log.warning("heartbeat refused: %s", response.status_code)
        except httpx.HTTPError as exc:
            log.warning("heartbeat not delivered: %s", type(exc).__name__)
        await pause(stop, config.service.heartbeat_seconds)


async def _read(
    config: AdapterConfig,
    fmt: Format | None,
    reader: Reader,
    stop: asyncio.Event,
    cad_headers: dict[str, str],
) -> None:
    source = config.source
    if source.type == "file":
        assert source.path is not None and fmt is not None
        await read_file(
            source.path, fmt, reader, stop, follow=True, poll_seconds=source.poll_seconds
        )
    elif source.type == "directory":
        assert source.path is not None
        await watch_directory(
            source.path,
            fmt,
            reader,
            stop,
            pattern=source.pattern,
            after=source.after,
            done_dir=source.done_dir,
            poll_seconds=source.poll_seconds,
            settle_seconds=source.settle_seconds,
            eido_agency=config.agency,
        )
    elif source.type == "tcp":
        assert fmt is not None
        await tcp_lines(fmt, reader, stop, listen=source.listen, connect=source.connect)
    else:
        assert source.url is not None
        # The CAD's notifier gets its own credentials, if any, never the service's token.
        await eido_websocket(
            source.url, config.agency, reader, stop, cad_headers, source.max_message_bytes
        )


def _report(reader: Reader, counts: Counts, spool: Spool) -> Report:
    return Report(
        read=reader.read,
        bad=reader.bad,
        delivered=counts.delivered,
        refused=counts.refused,
        rejects=counts.rejects,
        spooled=spool.depth(),
    )


def check(config: AdapterConfig, path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Parse a sample file with the configured format, without sending anything: one line per
    record with its events or its error. For writing and testing a mapping."""
    fmt = make_format(config)
    out: list[dict[str, Any]] = []
    if fmt is None:
        from cad_adapters import eido

        try:
            events = eido.parse(path.read_bytes(), config.agency)
        except ParseError as exc:
            return [{"position": "file", "error": str(exc)}]
        return [{"position": "file", "events": events}]
    stream = fmt.stream()
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if limit is not None and len(out) >= limit:
            break
        try:
            events = stream.parse(bare(line))
        except ParseError as exc:
            out.append({"position": f"line {number}", "error": str(exc), "field": exc.field})
            continue
        if events:
            out.append({"position": f"line {number}", "events": events})
    return out


def status(config: AdapterConfig) -> dict[str, Any]:
    assert config.spool.path is not None and config.spool.dead_letter is not None
    if not config.spool.path.exists():
        return {"spooled": 0, "dead_letters": 0, "spool": str(config.spool.path)}
    spool = Spool(config.spool.path, config.spool.dead_letter)
    try:
        head = spool.pending(1)
        return {
            "spool": str(config.spool.path),
            "spooled": spool.depth(),
            "oldest": asdict(head[0].entry) | {"attempts": head[0].attempts} if head else None,
            "dead_letter": str(config.spool.dead_letter),
            "dead_letters": len(spool.dead_letters()),
        }
    finally:
        spool.close()
