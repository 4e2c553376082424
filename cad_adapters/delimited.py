"""Parser for delimited (CSV, pipe, ...) and fixed-width CAD exports, driven by a mapping file
(`cad_adapters.mapping`, which documents every key).

`DelimitedFormat(mapping, agency).stream().parse(line)` turns one physical line into canonical
events (DESIGN.md §2). Pure: no I/O, no clock.

A data line with no time at all is a ParseError ("no time in the row to place its events"), so it
is kept as a reject rather than dropped. Event ids are `core.derive_id` of the agency, call id,
kind, subject (unit, nature code or transfer target) and the instant in UTC: re-reading a file
repeats nothing, the same unit dispatched at two times is two events.

Times of day (`time.date_column`) are placed by instants, never by wall clock or by column or
list order:
- the anchor is the row's call.received time when it has one (T0: the call's other events follow
  it), otherwise any of its times; the anchor is on the row's date;
- every other time of day is its first instant, on that date or the next day, that is no more than
  5 minutes (SKEW: two systems' clocks) before the anchor; if that is more than 12 hours after the
  anchor, it is instead its last instant before the anchor (a bad row stays a short one);
- a wall time that happens twice (fall back) is tried at both instants, as anchor and otherwise;
  of all these placements the one spanning the shortest time wins. So received 23:58 and
  dispatched 00:03 put 00:03 on the next day, and on the Central fall-back night received 01:50,
  dispatched 01:05 are 01:50 CDT and 01:05 CST, 15 minutes later;
- placements that span the same time (a call inside the repeated hour) are decided by
  `time.ambiguous`: "earlier" takes the fewest second occurrences, "later" the fewest first ones,
  then the earliest placement wins; "reject" refuses any row placed on a repeated wall time. A wall
  time the clocks skipped (spring forward) is a ParseError wherever it is placed.
Full timestamps are read each on its own: their repeated hour is `time.ambiguous`'s alone.
"""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cad_adapters.core import ParseError, Record, canonical, decode, derive_id
from cad_adapters.mapping import (
    DATE_DIRECTIVE,
    FIRST,
    ID_PREFIX,
    UNIT_KINDS,
    Columns,
    EventSpec,
    Mapping,
    as_list,
)
from contract.kinds import Kind

SKEW = timedelta(minutes=5)  # how far a time may precede its row's anchor and stay before it
HALF_DAY = timedelta(hours=12)  # a time that would follow the anchor by more is taken before it


@dataclass(frozen=True, slots=True)
class _Found:
    """One time value of a row: which event spec it belongs to and where it stood."""

    spec: int
    column: str
    value: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way to read a wall time in the mapping's zone."""

    local: datetime  # aware, in the zone (or the value's own offset)
    utc: datetime  # the instant: compare these, never `local` (same-zone comparison ignores fold)
    second: bool = False  # the second occurrence of a wall time that happens twice
    twice: bool = False  # the wall time happens twice (the clocks went back)
    missing: bool = False  # the wall time does not exist (the clocks went forward)


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
        return _Row(self._fmt, row).events()

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


class _Row:
    """One data line's cells on their way to events."""

    def __init__(self, fmt: DelimitedFormat, row: dict[str, str | None]) -> None:
        self.fmt, self.m, self.row = fmt, fmt.mapping, row
        self._date: date | None = None

    def events(self) -> list[Record]:
        call_id = self.row[self.m.call.id]
        if call_id is None:
            raise ParseError("no call id", self.m.call.id)
        found = self._found()
        if not found:
            raise ParseError("no time in the row to place its events")
        instants = self._place(found)
        made: list[tuple[datetime, Record]] = []
        for f, at in zip(found, instants, strict=True):
            event = self._event(self.m.events[f.spec], call_id, at, f.unit)
            if event is not None:
                made.append((at, event))
        earliest = min(instants, key=lambda at: at.astimezone(UTC))
        for spec in self.m.events:
            if spec.kind == Kind.CALL_NATURE and spec.at == FIRST:
                event = self._event(spec, call_id, earliest, None)
                if event is not None:
                    made.append((earliest, event))
        made.sort(key=lambda pair: pair[0].astimezone(UTC))  # stable: mapping order on ties
        seen: set[str] = set()
        events: list[Record] = []
        for _, event in made:  # a unit listed twice at the same time is one event
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                events.append(canonical(event))
        return events

    def _found(self) -> list[_Found]:
        found: list[_Found] = []
        for i, spec in enumerate(self.m.events):
            column = spec.column
            if spec.kind == Kind.CALL_NATURE:
                column = None if spec.at == FIRST else spec.at
            if column is None or self.row[column] is None:
                continue
            value = self.row[column] or ""
            if not spec.is_list:
                found.append(_Found(i, column, value, None))
                continue
            for part in (p.strip() for p in value.split(spec.list_separator)):
                if not part:
                    continue
                unit, sep, when = (s.strip() for s in part.partition(spec.pair_separator))
                if not (sep and unit and when):
                    raise ParseError(
                        f"{part!r} is not UNIT{spec.pair_separator}TIME "
                        f"(pairs separated by {spec.list_separator!r})",
                        column,
                    )
                if when not in self.m.source.nulls:
                    found.append(_Found(i, column, when, unit))
        return found

    def _place(self, found: list[_Found]) -> list[datetime]:
        """Each time as an aware datetime: dates completed, rollover applied, zone given."""
        parsed = [_read(f.value, f.column, self.m.time.formats) for f in found]
        out: list[datetime | None] = [
            self._zoned(dt, f) if dated else None
            for f, (dt, dated) in zip(found, parsed, strict=True)
        ]
        clock = [i for i, (_, dated) in enumerate(parsed) if not dated]
        if clock:
            times = [(found[i], parsed[i][0].timetz()) for i in clock]
            for i, at in zip(clock, self._times_of_day(times), strict=True):
                out[i] = at
        return [at for at in out if at is not None]

    def _times_of_day(self, times: list[tuple[_Found, time]]) -> list[datetime]:
        """The row's times of day placed together (the rule is in the module docstring)."""
        day = self._row_date(times[0][0])
        days = [day]
        with contextlib.suppress(OverflowError):
            days.append(day + timedelta(days=1))
        options = [
            [r for d in days for r in self._readings(datetime.combine(d, t), f)] for f, t in times
        ]
        for opts in options:
            opts.sort(key=lambda r: r.utc)
        received = [i for i, (f, _) in enumerate(times) if self._kind(f) == Kind.CALL_RECEIVED]
        rule = self.m.time.ambiguous
        best: tuple[Any, ...] | None = None
        placed: list[_Reading] = []
        for i in received or range(len(times)):
            for anchor in (r for r in options[i] if r.local.date() == day):
                candidate = [
                    anchor if j == i else _follow(anchor, o) for j, o in enumerate(options)
                ]
                instants = sorted(r.utc for r in candidate)
                folds = sum(
                    r.second if rule != "later" else r.twice and not r.second for r in candidate
                )
                key = (instants[-1] - instants[0], folds, instants)
                if best is None or key < best:
                    best, placed = key, candidate
        for (f, _), r in zip(times, placed, strict=True):
            self._check(r, f)
        return [r.local for r in placed]

    def _kind(self, f: _Found) -> str:
        return self.m.events[f.spec].kind

    def _readings(self, wall: datetime, f: _Found) -> list[_Reading]:
        """The instants a wall time (naive: in the mapping's zone) may mean: one, or two."""
        try:
            if wall.tzinfo is not None:
                return [_Reading(wall, wall.astimezone(UTC))]
            zone = self.fmt.zone
            first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
            utc = first.astimezone(UTC)
            if utc.astimezone(zone).replace(tzinfo=None) != wall:
                return [_Reading(first, utc, missing=True)]
            if first.utcoffset() == second.utcoffset():
                return [_Reading(first, utc)]
            return [
                _Reading(first, utc, twice=True),
                _Reading(second, second.astimezone(UTC), second=True, twice=True),
            ]
        except OverflowError:
            raise ParseError(f"{f.value!r} falls outside the years 1 to 9999", f.column) from None

    def _zoned(self, dt: datetime, f: _Found) -> datetime:
        """A full timestamp: its own offset, else the zone's, `ambiguous` choosing in the fall."""
        readings = self._readings(dt, f)
        reading = readings[-1] if self.m.time.ambiguous == "later" else readings[0]
        self._check(reading, f)
        return reading.local

    def _check(self, r: _Reading, f: _Found) -> None:
        wall, zone = r.local.replace(tzinfo=None), self.fmt.zone.key
        if r.missing:
            raise ParseError(
                f"{wall:%Y-%m-%d %H:%M:%S} does not exist in {zone} (the clocks went forward)",
                f.column,
            )
        if r.twice and self.m.time.ambiguous == "reject":
            raise ParseError(
                f"{wall:%Y-%m-%d %H:%M:%S} happens twice in {zone} (the clocks went back)",
                f.column,
            )

    def _row_date(self, f: _Found) -> date:
        if self._date is None:
            column = self.m.time.date_column or ""
            value = self.row[column]
            if value is None:
                raise ParseError(f"no date for the time of day {f.value!r} of {f.column}", column)
            self._date = _read(value, column, self.m.time.date_formats)[0].date()
        return self._date

    def _first_of(self, columns: Columns | None) -> tuple[str | None, str | None]:
        """The first non-empty value of the columns, and the column it came from."""
        names = as_list(columns)
        for name in names:
            if self.row[name] is not None:
                return self.row[name], name
        return None, names[0] if names else None

    def _event(
        self, spec: EventSpec, call_id: str, at: datetime, unit: str | None
    ) -> Record | None:
        data: dict[str, str] = {}
        actor = subject = None
        if spec.kind == Kind.CALL_NATURE:
            subject, column = self._first_of(spec.code)
            if subject is None:
                return None
            if (spec.codes is not None or spec.code_pattern is not None) and not (
                subject in (spec.codes or ())
                or (spec.code_pattern and re.fullmatch(spec.code_pattern, subject))
            ):
                raise ParseError(f"unknown nature code {subject!r}", column)
            data["code"] = subject
            text = self._first_of(spec.text)[0]
            if text is not None:
                data["text"] = text
        elif spec.kind in UNIT_KINDS:
            subject, column = (unit, None) if spec.is_list else self._first_of(spec.unit)
            if subject is None:
                raise ParseError(f"no unit for the {spec.kind} time in {spec.column}", column)
            data["unit"] = subject
        elif spec.kind == Kind.CALL_TRANSFERRED:
            subject = self._first_of(spec.to)[0]
            if subject is not None:
                data["to"] = subject
        elif spec.kind == Kind.CALL_ANSWERED:
            actor = self._first_of(spec.actor)[0]
        elif spec.kind == Kind.CALL_RECEIVED:
            psap = self.m.call.psap or self._first_of(self.m.call.psap_column)[0]
            if psap is not None:
                data["psap"] = psap
        instant = at.astimezone(UTC).isoformat()
        parts = (self.fmt.agency, call_id, spec.kind, subject or "", instant)
        event: Record = {
            "event_id": derive_id(ID_PREFIX, *parts),
            "call_id": call_id,
            "agency": self.fmt.agency,
            "kind": spec.kind,
            "at": at.isoformat(),
            "source": "cad",
            "data": data,
        }
        if actor is not None:
            event["actor"] = actor
        return event


def _follow(anchor: _Reading, options: list[_Reading]) -> _Reading:
    """The reading of a time of day that goes with the anchor (`options` in time order)."""
    after = [r for r in options if r.utc >= anchor.utc - SKEW]
    before = [r for r in options if r.utc < anchor.utc - SKEW]
    if after and (after[0].utc - anchor.utc <= HALF_DAY or not before):
        return after[0]
    return before[-1]


def _read(value: str, column: str, formats: tuple[str, ...]) -> tuple[datetime, bool]:
    """The value by the first format that reads it, and whether that format gives a date."""
    impossible = None
    for fmt in formats:
        try:
            if fmt == "iso":
                return datetime.fromisoformat(value), True
            return datetime.strptime(value, fmt), bool(DATE_DIRECTIVE.search(fmt))
        except ValueError as exc:
            reason = str(exc)
            if not reason.startswith(("time data", "unconverted data", "Invalid isoformat")):
                impossible = impossible or reason  # it has the shape but names no real instant
    if impossible is not None:
        raise ParseError(f"impossible date or time {value!r}: {impossible}", column)
    raise ParseError(f"{value!r} matches none of the formats {', '.join(formats)}", column)
