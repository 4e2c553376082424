"""Parser for delimited (CSV, pipe, ...) and fixed-width CAD exports, driven by a mapping file
(`cad_adapters.mapping`, which documents every key).

`DelimitedFormat(mapping, agency).stream().parse(line)` turns one physical line into canonical
events (DESIGN.md §2). Pure: no I/O, no clock.

The data lines' cells go to `delimited_row` (cells to events), their times to
`delimited_times` (reading and placing times, with the rules for times of day and clock changes).
"""

from __future__ import annotations

import csv
from typing import Any
from zoneinfo import ZoneInfo

from cad_adapters.core import ParseError, Record, decode
from cad_adapters.delimited_row import row_events
from cad_adapters.mapping import Mapping


class DelimitedFormat:
    """A CAD export described by a mapping; one stream per file or connection."""

    def __init__(self, mapping: Mapping, agency: str) -> None:
        self.mapping = mapping
        self.agency = agency
        self.zone = ZoneInfo(mapping.time.zone)

    def stream(self) -> DelimitedStream:
        return DelimitedStream(self)


class DelimitedStream:
    """One file or connection: remembers its header line, turns each data line into events."""

    def __init__(self, fmt: DelimitedFormat) -> None:
        self._fmt = fmt
        self._m = m = fmt.mapping
        self._header_due = m.source.header
        self._first_line = True
        self._bad_header: ParseError | None = None  # every row is refused with it
        if m.source.format == "fixed":
            fields = sorted((m.source.fields or {}).items(), key=lambda f: f[1][0])
            self._set_columns([name for name, _ in fields])
        else:
            self._set_columns(list(m.source.columns or ()))

    def _set_columns(self, columns: list[str]) -> None:
        self._columns = columns

    def parse(self, record: bytes) -> list[Record]:
        src = self._m.source
        first, self._first_line = self._first_line, False
        try:
            text = decode(record.removesuffix(b"\r"), src.encoding)
        except ParseError as exc:
            if self._header_due:  # it is the header line that failed: never take the next one
                self._header_due = False
                if src.format == "csv":
                    reason = f"the header line cannot be read: {exc.reason}"
                    self._bad_header = ParseError(reason, exc.field)
            elif self._bad_header is not None:
                raise ParseError(self._bad_header.reason, self._bad_header.field) from None
            raise
        if first:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            return []
        if self._header_due:
            self._header_due = False
            if src.format == "csv":
                self._read_header(text)
            return []
        if self._bad_header is not None:
            raise ParseError(self._bad_header.reason, self._bad_header.field)
        cells = self._split_fixed(text) if src.format == "fixed" else self._split_csv(text)
        row: dict[str, str | None] = {}
        for name, cell in zip(self._columns, cells, strict=True):
            value = cell.strip()
            row.setdefault(name, None if value in src.nulls else value)
        return row_events(self._m, self._fmt.agency, self._fmt.zone, row)

    def _read_header(self, text: str) -> None:
        try:
            self._set_columns([name.strip() for name in self._cells(text)])
        except ParseError as exc:
            self._bad_header = ParseError(f"the header line cannot be read: {exc.reason}")
            raise
        for key, column in self._m.named_columns().items():
            if column not in self._columns:
                reason = f"the header line has no such column (named by {key})"
                self._bad_header = ParseError(reason, column)
                raise ParseError(reason, column)

    def _cells(self, text: str) -> list[str]:
        src = self._m.source
        quoting = csv.QUOTE_MINIMAL if src.quote else csv.QUOTE_NONE
        dialect: dict[str, Any] = {
            "delimiter": src.delimiter,
            "quotechar": src.quote or None,
            "quoting": quoting,
        }
        try:
            return next(csv.reader([text], strict=True, **dialect), [])
        except csv.Error as exc:
            reason = str(exc)
        try:
            loose = next(csv.reader([text], strict=False, **dialect), [])
        except csv.Error:
            loose = []
        at = len(loose) - 1
        field = self._columns[at] if 0 <= at < len(self._columns) else None
        if reason == "unexpected end of data":
            raise ParseError("truncated line: a quoted cell is not closed", field)
        raise ParseError(f"malformed line: {reason}", field if "expected after" in reason else None)

    def _split_csv(self, text: str) -> list[str]:
        cells = self._cells(text)
        if len(cells) < len(self._columns):
            raise ParseError(
                f"truncated line: {len(cells)} cells where there are {len(self._columns)} columns",
                self._columns[len(cells)],
            )
        if len(cells) > len(self._columns):
            raise ParseError(f"{len(cells)} cells where there are {len(self._columns)} columns")
        return cells

    def _split_fixed(self, text: str) -> list[str]:
        fields = self._m.source.fields or {}
        spans = [fields[name] for name in self._columns]
        for name, (_, end) in zip(self._columns, spans, strict=True):
            if len(text) < end:
                raise ParseError(
                    f"truncated line: {len(text)} characters, the field ends at {end}", name
                )
        return [text[start:end] for start, end in spans]
