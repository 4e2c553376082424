"""The mapping file of a delimited or fixed-width CAD export (TOML): which column holds what.

`load_mapping` reads a preset (`rvfd`, `neris`) or a file and checks it; `cad_adapters.delimited`
parses lines with it.

Mapping keys (`MappingError` names the offending one, e.g. `events[2].kind: unknown kind ...`):

[source]
  format        "csv" (default) or "fixed" (fixed-width fields).
  delimiter     csv: one character, default ",". Use "|" for pipe-delimited, "\\t" for tabs.
  quote         csv: the quote character, default '"'; "" for none. A quoted cell cannot span
                lines: a line that ends inside quotes is a truncated line.
  encoding      any Python codec name, default "utf-8".
  header        default true. csv: the first non-blank line names the columns. fixed: the first
                non-blank line is a title and is skipped. A header line not in the encoding is a
                reject, and so is every row after it ("the header line cannot be read"); a title
                not in the encoding is a reject, the rows after it are read.
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
                Times of day (date_column) take the occurrence their row's other times point to;
                "earlier" and "later" decide only where the row cannot (all its times inside the
                repeated hour); "reject" refuses every row with a repeated wall time.
  formats       strptime formats tried in order, default ["iso"]; "iso" means ISO 8601
                (`datetime.fromisoformat`). A value that carries an offset keeps it.
  date_column   for exports whose times are times of day only: the column giving the date of
                the row's anchor, its call.received time (else any of its times). Each other time
                of day is its first instant, that date or the next day, at most 5 minutes before
                the anchor, or, if that is more than 12 hours after the anchor, its last instant
                before it. Every anchor and both instants of a repeated (fall-back) wall time are
                tried: the placement spanning the shortest time wins, whatever the column order.
                Received 23:58, dispatched 00:03: 00:03 the next day. Central fall-back night,
                received 01:50, dispatched 01:05: 01:50 CDT, then 01:05 CST (15 minutes later).
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
"""

from __future__ import annotations

import codecs
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contract.kinds import KINDS, Kind

CAD_KINDS = (
    Kind.CALL_RECEIVED,
    Kind.CALL_TRANSFERRED,
    Kind.CALL_ANSWERED,
    Kind.CALL_NATURE,
    Kind.UNIT_DISPATCHED,
    Kind.UNIT_ON_SCENE,
    Kind.CALL_ENDED,
)
UNIT_KINDS = (Kind.UNIT_DISPATCHED, Kind.UNIT_ON_SCENE)
# The keys each kind may set besides `kind` (the rest are refused by name).
KIND_KEYS: dict[str, frozenset[str]] = {
    Kind.CALL_RECEIVED: frozenset({"column"}),
    Kind.CALL_TRANSFERRED: frozenset({"column", "to"}),
    Kind.CALL_ANSWERED: frozenset({"column", "actor"}),
    Kind.CALL_NATURE: frozenset({"at", "code", "text", "codes", "code_pattern"}),
    Kind.UNIT_DISPATCHED: frozenset({"column", "unit", "list", "list_separator", "pair_separator"}),
    Kind.UNIT_ON_SCENE: frozenset({"column", "unit", "list", "list_separator", "pair_separator"}),
    Kind.CALL_ENDED: frozenset({"column"}),
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
        if value not in KINDS:
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
    for i, column in enumerate(as_list(columns)):
        named[key if isinstance(columns, str) else f"{key}[{i}]"] = column


def as_list(columns: Columns | None) -> tuple[str, ...]:
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
    if e.kind == Kind.CALL_NATURE:
        if e.code is None:
            out.append("code: call.nature needs its code column")
        if e.at is None:
            out.append('at: call.nature needs a time column or "first"')
    elif e.column is None:
        out.append(f"column: {e.kind} needs its time column")
    if e.kind in UNIT_KINDS and (e.unit is None) == (not e.is_list):
        out.append("unit: give a unit column or list = true (one of them)")
    return out
