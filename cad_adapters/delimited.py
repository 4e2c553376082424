"""Declarative parser for delimited (CSV, pipe, ...) and fixed-width CAD exports.

A mapping file (TOML) says which column holds what; `load_mapping` reads and checks it,
`DelimitedFormat(mapping, agency).stream().parse(line)` turns one physical line into canonical
events (DESIGN.md §2). Pure: loading the mapping file is the only I/O; no clock is read.

Mapping keys (`MappingError` names the offending one, e.g. `events[2].kind: unknown kind ...`):

[source]
  format        "csv" (default) or "fixed" (fixed-width fields).
  delimiter     csv: one character, default ",". Use "|" for pipe-delimited, "\\t" for tabs.
  quote         csv: the quote character, default '"'; "" for none. A quoted cell cannot span
                lines: a line that ends inside quotes is a truncated line.
  encoding      any Python codec name, default "utf-8".
  header        default true. csv: the first non-blank line names the columns. fixed: the first
                non-blank line is a title and is skipped.
  columns       csv without header: the column names, in order (required then).
  nulls         cell values meaning "no value", compared after trimming spaces; default [""].
  fields        fixed only: { name = [start, end] }, 0-based character offsets, end exclusive
                (Python slice semantics: [0, 8] is the first 8 characters). A line shorter than
                the furthest end is a truncated line.
  Every cell is trimmed of surrounding spaces.

[time]
  zone          required; IANA zone name ("America/Chicago"). Times without an offset are that
                zone's wall-clock time: `at` carries the zone's offset for that instant (DST
                correct). A wall time in the spring-forward gap does not exist: ParseError.
  ambiguous     a wall time that occurs twice (fall back): "earlier" (default: the first
                occurrence, daylight time, fold=0), "later" (fold=1) or "reject" (ParseError).
  formats       strptime formats tried in order, default ["iso"]; "iso" means ISO 8601
                (`datetime.fromisoformat`). A value that carries an offset keeps it.
  date_column   for exports whose times are times of day only: the column giving the date.
                Rollover: a time of day earlier than the row's first time of day (reading the
                mapped time columns left to right, list cells left to right) is the next day.
  date_formats  strptime formats of date_column, default ["%Y-%m-%d"]; only the date is kept.

[call]
  id            required; the call id column.
  psap          optional fixed PSAP id, set as data.psap of call.received.
  psap_column   optional column giving data.psap of call.received (not with psap).

[[events]]      one table per event kind the export carries:
  kind          call.received | call.transferred | call.answered | call.nature |
                unit.dispatched | unit.on_scene | call.ended
  column        the time column (every kind but call.nature). An empty (null) time cell, here
                or in `at`, means no such event in the row.
  at            call.nature only: a time column, or "first" = the earliest time of the row's
                other events.
  code, text    call.nature: the code column (required) and an optional text column.
  codes         call.nature: allowed codes (exact); a code not in it is a ParseError ...
  code_pattern  ... unless it fully matches this regular expression (either may be given).
  unit          unit.*: the unit column (one unit per row), or
  list          unit.*: true when `column` holds "UNIT=TIME" pairs ("M5=07:05:17, E2=07:06:00").
  list_separator, pair_separator   the list's separators, default "," and "=".
  actor         call.answered: the telecommunicator id column.
  to            call.transferred: the column naming where the call went.
  code, text, unit, actor, to and psap_column may list several columns: the first non-empty
  one wins (e.g. code = ["dispatch_determinate_code", "dispatch_incident_code"]).

A data line with no time at all is a ParseError ("no time in the row to place its events"), so it
is kept as a reject rather than dropped. Event ids are `core.derive_id` of the agency, call id,
kind, subject (unit, nature code or transfer target) and the instant in UTC: re-reading a file
repeats nothing, the same unit dispatched at two times is two events.
"""

from __future__ import annotations

import codecs
import csv
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cad_adapters.core import ParseError, Record, canonical, decode, derive_id
from service.triage import events as k

CAD_KINDS = (
    k.CALL_RECEIVED,
    k.CALL_TRANSFERRED,
    k.CALL_ANSWERED,
    k.CALL_NATURE,
    k.UNIT_DISPATCHED,
    k.UNIT_ON_SCENE,
    k.CALL_ENDED,
)
UNIT_KINDS = (k.UNIT_DISPATCHED, k.UNIT_ON_SCENE)
# The keys each kind may set besides `kind` (the rest are refused by name).
KIND_KEYS: dict[str, frozenset[str]] = {
    k.CALL_RECEIVED: frozenset({"column"}),
    k.CALL_TRANSFERRED: frozenset({"column", "to"}),
    k.CALL_ANSWERED: frozenset({"column", "actor"}),
    k.CALL_NATURE: frozenset({"at", "code", "text", "codes", "code_pattern"}),
    k.UNIT_DISPATCHED: frozenset({"column", "unit", "list", "list_separator", "pair_separator"}),
    k.UNIT_ON_SCENE: frozenset({"column", "unit", "list", "list_separator", "pair_separator"}),
    k.CALL_ENDED: frozenset({"column"}),
}
FIRST = "first"
ID_PREFIX = "cadrow"
DATE_DIRECTIVE = re.compile(r"%[dmyYjbBcxGUWV]")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the offending key."""


Columns = str | tuple[str, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Model):
    format: Literal["csv", "fixed"] = "csv"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', max_length=1)
    encoding: str = "utf-8"
    header: bool = True
    columns: tuple[str, ...] | None = None
    nulls: tuple[str, ...] = ("",)
    fields: dict[str, tuple[int, int]] | None = None

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value


class TimeSpec(_Model):
    zone: str
    ambiguous: Literal["earlier", "later", "reject"] = "earlier"
    formats: tuple[str, ...] = Field(("iso",), min_length=1)
    date_column: str | None = None
    date_formats: tuple[str, ...] = Field(("%Y-%m-%d",), min_length=1)

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value


class CallSpec(_Model):
    id: str
    psap: str | None = None
    psap_column: Columns | None = None


class EventSpec(_Model):
    kind: str
    column: str | None = None
    at: str | None = None
    code: Columns | None = None
    text: Columns | None = None
    codes: tuple[str, ...] | None = None
    code_pattern: str | None = None
    unit: Columns | None = None
    is_list: bool = Field(False, alias="list")
    list_separator: str = Field(",", min_length=1)
    pair_separator: str = Field("=", min_length=1)
    actor: Columns | None = None
    to: Columns | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in k.KINDS:
            raise ValueError(f"unknown kind {value!r}; a CAD export gives {', '.join(CAD_KINDS)}")
        if value not in CAD_KINDS:
            raise ValueError(f"{value!r} is not a CAD kind; one of {', '.join(CAD_KINDS)}")
        return value

    @field_validator("code_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class Mapping(_Model):
    """A checked mapping file (see the module docstring for every key)."""

    source: SourceSpec
    time: TimeSpec
    call: CallSpec
    events: tuple[EventSpec, ...] = Field(min_length=1)

    def named_columns(self) -> dict[str, str]:
        """Every column the mapping reads, by the key that names it (`events[0].column`)."""
        named: dict[str, str] = {"call.id": self.call.id}
        _add(named, "call.psap_column", self.call.psap_column)
        _add(named, "time.date_column", self.time.date_column)
        for i, e in enumerate(self.events):
            for key in ("column", "code", "text", "unit", "actor", "to"):
                _add(named, f"events[{i}].{key}", getattr(e, key))
            if e.at != FIRST:
                _add(named, f"events[{i}].at", e.at)
        return named


def _add(named: dict[str, str], key: str, columns: Columns | None) -> None:
    for i, column in enumerate(_as_list(columns)):
        named[key if isinstance(columns, str) else f"{key}[{i}]"] = column


def _as_list(columns: Columns | None) -> tuple[str, ...]:
    return () if columns is None else (columns,) if isinstance(columns, str) else columns


def load_mapping(spec: str | Path) -> Mapping:
    """A preset ("rvfd", "neris") or a TOML mapping file, checked; MappingError otherwise."""
    presets = resources.files("cad_adapters.presets")
    preset = presets / f"{spec}.toml"
    if isinstance(spec, str) and re.fullmatch(r"[a-z0-9_]+", spec) and preset.is_file():
        text, origin = preset.read_text("utf-8"), f"preset {spec!r}"
    else:
        try:
            text, origin = Path(spec).read_text("utf-8"), str(spec)
        except (OSError, UnicodeDecodeError) as exc:
            toml = (p.name for p in presets.iterdir() if p.name.endswith(".toml"))
            known = ", ".join(sorted(name.removesuffix(".toml") for name in toml))
            raise MappingError(
                f"{str(spec)!r} is neither a preset ({known}) nor a readable mapping file: {exc}"
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{origin} is not valid TOML: {exc}") from None
    return mapping_from(data)


def mapping_from(data: dict[str, Any]) -> Mapping:
    """The mapping of an already parsed TOML document, checked."""
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError("; ".join(_describe(err) for err in exc.errors())) from None
    problems = _problems(mapping)
    if problems:
        raise MappingError("; ".join(problems))
    return mapping


def _describe(err: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    messages = {"missing": "required", "extra_forbidden": "unknown key"}
    msg = messages.get(err["type"], str(err["msg"]).removeprefix("Value error, "))
    return f"{path}: {msg}"


def _problems(m: Mapping) -> list[str]:
    """What a well-typed mapping can still get wrong, each naming its key."""
    out: list[str] = []
    src = m.source
    if src.format == "fixed":
        if not src.fields:
            out.append("source.fields: a fixed-width source needs its fields")
        if src.columns is not None:
            out.append("source.columns: fixed-width columns are named by source.fields")
        for name, (start, end) in (src.fields or {}).items():
            if not 0 <= start < end:
                out.append(f"source.fields.{name}: need 0 <= start < end, got [{start}, {end}]")
    else:
        if src.fields is not None:
            out.append('source.fields: only for format = "fixed"')
        if not src.header and not src.columns:
            out.append("source.columns: required when header = false")
        if src.header and src.columns is not None:
            out.append("source.columns: only when header = false (the header names them)")
        if src.delimiter == src.quote:
            out.append("source.quote: must differ from the delimiter")
    if m.call.psap is not None and m.call.psap_column is not None:
        out.append("call.psap_column: give psap or psap_column, not both")
    for i, fmt in enumerate(m.time.formats):
        if fmt != "iso" and not DATE_DIRECTIVE.search(fmt) and m.time.date_column is None:
            out.append(f"time.formats[{i}]: {fmt!r} gives a time of day only; set time.date_column")
    for i, e in enumerate(m.events):
        out.extend(f"events[{i}].{p}" for p in _event_problems(e))
    known = list(src.fields or {}) if src.format == "fixed" else src.columns
    if known is not None and not (src.format == "csv" and src.header):
        where = "source.fields" if src.format == "fixed" else "source.columns"
        out.extend(
            f"{key}: no column {column!r} in {where}"
            for key, column in m.named_columns().items()
            if column not in known
        )
    return out


def _event_problems(e: EventSpec) -> list[str]:
    allowed = KIND_KEYS[e.kind] | {"kind"}
    given = {"list" if name == "is_list" else name for name in e.model_fields_set}
    out = [
        f"{key}: not a key of {e.kind} (it takes {', '.join(sorted(allowed))})"
        for key in sorted(given - allowed)
    ]
    if e.kind == k.CALL_NATURE:
        if e.code is None:
            out.append("code: call.nature needs its code column")
        if e.at is None:
            out.append('at: call.nature needs a time column or "first"')
    elif e.column is None:
        out.append(f"column: {e.kind} needs its time column")
    if e.kind in UNIT_KINDS and (e.unit is None) == (not e.is_list):
        out.append("unit: give a unit column or list = true (one of them)")
    return out


@dataclass(frozen=True, slots=True)
class _Found:
    """One time value of a row: which event spec it belongs to and where it stood."""

    spec: int
    column: str
    value: str
    unit: str | None
    position: tuple[int, int]  # (column position, order within a list cell)


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
        self._position = {name: i for i, name in reversed(list(enumerate(columns)))}

    def parse(self, record: bytes) -> list[Record]:
        src = self._m.source
        text = decode(record.removesuffix(b"\r"), src.encoding)
        if self._first_line:
            text, self._first_line = text.removeprefix("\ufeff"), False
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
        return _Row(self._fmt, row, self._position).events()

    def _read_header(self, text: str) -> None:
        try:
            self._set_columns([name.strip() for name in self._cells(text)])
        except ParseError as exc:
            self._bad_header = ParseError(f"the header line cannot be read: {exc.reason}")
            raise
        for key, column in self._m.named_columns().items():
            if column not in self._position:
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

    def __init__(
        self, fmt: DelimitedFormat, row: dict[str, str | None], position: dict[str, int]
    ) -> None:
        self.fmt, self.m, self.row, self.position = fmt, fmt.mapping, row, position
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
            if spec.kind == k.CALL_NATURE and spec.at == FIRST:
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
            if spec.kind == k.CALL_NATURE:
                column = None if spec.at == FIRST else spec.at
            if column is None or self.row[column] is None:
                continue
            value = self.row[column] or ""
            if not spec.is_list:
                found.append(_Found(i, column, value, None, (self.position[column], 0)))
                continue
            for j, part in enumerate(p.strip() for p in value.split(spec.list_separator)):
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
                    found.append(_Found(i, column, when, unit, (self.position[column], j)))
        return found

    def _place(self, found: list[_Found]) -> list[datetime]:
        """Each time as an aware datetime: dates completed, rollover applied, zone given."""
        parsed = [_read(f.value, f.column, self.m.time.formats) for f in found]
        times_of_day = sorted(
            (f.position, dt.time())
            for f, (dt, dated) in zip(found, parsed, strict=True)
            if not dated
        )
        out: list[datetime] = []
        for f, (dt, dated) in zip(found, parsed, strict=True):
            try:
                if not dated:
                    dt = datetime.combine(self._row_date(f), dt.timetz())
                    if dt.time() < times_of_day[0][1]:  # earlier than the row's first: next day
                        dt += timedelta(days=1)
                out.append(self._zoned(dt, f) if dt.tzinfo is None else dt)
                out[-1].astimezone(UTC)
            except OverflowError:
                raise ParseError(
                    f"{f.value!r} falls outside the years 1 to 9999", f.column
                ) from None
        return out

    def _row_date(self, f: _Found) -> date:
        if self._date is None:
            column = self.m.time.date_column or ""
            value = self.row[column]
            if value is None:
                raise ParseError(f"no date for the time of day {f.value!r} of {f.column}", column)
            self._date = _read(value, column, self.m.time.date_formats)[0].date()
        return self._date

    def _zoned(self, naive: datetime, f: _Found) -> datetime:
        zone = self.fmt.zone
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise ParseError(
                f"{naive:%Y-%m-%d %H:%M:%S} does not exist in {zone.key} (the clocks went forward)",
                f.column,
            )
        if first.utcoffset() == second.utcoffset():
            return first
        rule = self.m.time.ambiguous
        if rule == "reject":
            raise ParseError(
                f"{naive:%Y-%m-%d %H:%M:%S} happens twice in {zone.key} (the clocks went back)",
                f.column,
            )
        return second if rule == "later" else first

    def _first_of(self, columns: Columns | None) -> tuple[str | None, str | None]:
        """The first non-empty value of the columns, and the column it came from."""
        names = _as_list(columns)
        for name in names:
            if self.row[name] is not None:
                return self.row[name], name
        return None, names[0] if names else None

    def _event(
        self, spec: EventSpec, call_id: str, at: datetime, unit: str | None
    ) -> Record | None:
        data: dict[str, str] = {}
        actor = subject = None
        if spec.kind == k.CALL_NATURE:
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
        elif spec.kind == k.CALL_TRANSFERRED:
            subject = self._first_of(spec.to)[0]
            if subject is not None:
                data["to"] = subject
        elif spec.kind == k.CALL_ANSWERED:
            actor = self._first_of(spec.actor)[0]
        elif spec.kind == k.CALL_RECEIVED:
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
