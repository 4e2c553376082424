"""What every CAD adapter shares: the parse error, derived event ids and the canonical check.

An adapter is a pure parser (bytes in, canonical events of DESIGN.md §2 out, or a `ParseError`
that says precisely what is wrong and where) plus a runner (`cad_adapters.runner`) that reads a
source, spools what it read and delivers it. Parsers do no I/O and read no clock.

A line-oriented format is a `Format`: it opens one `Stream` per file or connection (a stream keeps
what a header line told it) and the stream turns each record (one line, without its line break)
into zero or more events.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from pydantic import ValidationError

from contract.wire import CanonicalEvent, first_error

Record = dict[str, Any]


class ParseError(ValueError):
    """A record the adapter cannot turn into events: `reason` says why, `field` names the column
    or element at fault (None when the whole record is)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class Stream(Protocol):
    def parse(self, record: bytes) -> list[Record]:
        """The canonical events of one record ([] for a header or a blank line); raises
        ParseError for a record that cannot be read."""
        ...


class Format(Protocol):
    def stream(self) -> Stream:
        """A parser for one new file or connection."""
        ...


def derive_id(prefix: str, *parts: str) -> str:
    """A stable event id from what identifies a fact, so reading the same fact again (a re-sent
    snapshot, a re-read file) gives the same id and is stored once. At most 128 characters.
    Any Python string hashes, lone surrogates from JSON escapes included (valid text hashes as
    plain UTF-8, so existing ids are unchanged)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{prefix}-{digest}"


def canonical(record: Record) -> Record:
    """The record checked against the canonical event contract (the same model the service's
    ingest uses), as JSON-ready values; a ParseError naming the field otherwise."""
    try:
        CanonicalEvent.model_validate(record)
    except ValidationError as exc:
        field, message = first_error(exc, None)
        raise ParseError(message, field) from None
    return record


def decode(record: bytes, encoding: str) -> str:
    """The record as text; a ParseError that says where the bytes stop being `encoding`."""
    try:
        return record.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = record[exc.start : exc.end].hex(" ")
        raise ParseError(
            f"not valid {encoding} at byte {exc.start} ({bad}); set the mapping's encoding",
            "encoding",
        ) from None
    except LookupError:
        raise ParseError(f"unknown encoding {encoding!r}", "encoding") from None
