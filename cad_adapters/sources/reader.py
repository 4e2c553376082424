"""What every source shares: turning a record read into a spool entry (its events together, or a
reject with its raw text, where it was and why), and committing entries to the spool."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cad_adapters.core import ParseError, Record
from cad_adapters.spool import Entry, Spool

log = logging.getLogger("tcpr.adapter")


def sendable(value: object) -> None:
    """Refuse what JSON cannot carry to the service (NaN, Infinity, a lone surrogate), which a
    lenient decoder lets through: such a record must be a reject here, not jam the delivery."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError) as exc:
        raise ParseError(f"not sendable as JSON: {exc}", "body") from None


@dataclass
class Reader:
    """Turns records into spool entries: a record's events together, a bad record as a reject
    with its raw text, where it was and why."""

    spool: Spool
    wake: asyncio.Event
    max_line_bytes: int = 1_048_576
    read: int = 0  # records read
    bad: int = 0  # records that could not be parsed

    def entry(
        self, parse: Callable[[bytes], list[Record]], raw: bytes, origin: str, where: str
    ) -> Entry | None:
        self.read += 1
        try:
            events = parse(raw)
            sendable(events)
        except ParseError as exc:
            return self.reject(raw, origin, where, exc.reason, exc.field)
        return Entry("events", events, origin, where) if events else None

    def reject(self, raw: bytes, origin: str, where: str, reason: str, field: str | None) -> Entry:
        self.bad += 1
        # The reason may quote the record (a shifted column puts an address in a time field):
        # it goes with the record to the reject store; the log names the field only.
        log.warning("%s %s: unreadable record (field %s) filed as a reject", origin, where, field)
        text = raw.decode("utf-8", errors="backslashreplace")
        return Entry("reject", {"raw": text, "reason": reason, "field": field}, origin, where)

    def commit(self, entries: list[Entry], mark: tuple[str, int, str] | None = None) -> None:
        self.spool.put(entries, mark)
        if entries:
            self.wake.set()


def bare(line: bytes) -> bytes:
    """A line without the CR of a CRLF line break."""
    return line[:-1] if line.endswith(b"\r") else line


def line_entry(
    parse: Callable[[bytes], list[Record]], line: bytes, origin: str, where: str, reader: Reader
) -> Entry | None:
    """A line of a file or feed as a spool entry (None for a line that holds no event)."""
    return reader.entry(parse, bare(line), origin, where)


def eido_entry(raw: bytes, agency: str, origin: str, where: str, reader: Reader) -> Entry:
    """An EIDO document to deliver whole to `POST /api/v1/eido`, checked here first so a bad one
    becomes a reject with its reason and never blocks the ones behind it."""
    from cad_adapters import eido

    reader.read += 1
    try:
        document = eido.load(raw)  # refuses what JSON and UTF-8 cannot carry, too
        eido.events_of(document, agency)
    except ParseError as exc:
        return reader.reject(raw, origin, where, exc.reason, exc.field or "body")
    return Entry("eido", document, origin, where)
