"""One data line's cells (column name -> value) to canonical events, as the mapping file's
`call` and `events` say. Pure: no I/O, no clock.

Event ids are `core.derive_id` of the agency, call id, kind, subject (unit, nature code or
transfer target) and the instant in UTC: re-reading a file repeats nothing, the same unit
dispatched at two times is two events. A row with no time at all is a ParseError ("no time in
the row to place its events"), so it is kept as a reject rather than dropped.
"""

from __future__ import annotations

import collections.abc
import re
from datetime import UTC, datetime
from typing import TypeAlias
from zoneinfo import ZoneInfo

from cad_adapters.core import ParseError, Record, canonical, derive_id
from cad_adapters.delimited_times import Found, place
from cad_adapters.mapping import FIRST, ID_PREFIX, UNIT_KINDS, Columns, EventSpec, Mapping, as_list
from contract.kinds import Kind

# A row's cells by column name (None: a null value).
Cells: TypeAlias = "collections.abc.Mapping[str, str | None]"


def row_events(m: Mapping, agency: str, zone: ZoneInfo, row: Cells) -> list[Record]:
    """The row's events in time order (mapping order on ties), each event id once."""
    call_id = row[m.call.id]
    if call_id is None:
        raise ParseError("no call id", m.call.id)
    found = _found(m, row)
    if not found:
        raise ParseError("no time in the row to place its events")
    instants = place(found, row, m.time, zone)
    made: list[tuple[datetime, Record]] = []
    for f, at in zip(found, instants, strict=True):
        event = _event(m, agency, row, m.events[f.spec], call_id, at, f.unit)
        if event is not None:
            made.append((at, event))
    earliest = min(instants, key=lambda at: at.astimezone(UTC))
    for spec in m.events:
        if spec.kind == Kind.CALL_NATURE and spec.at == FIRST:
            event = _event(m, agency, row, spec, call_id, earliest, None)
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


def _found(m: Mapping, row: Cells) -> list[Found]:
    """The row's time values, in mapping order (a list column's pairs in list order)."""
    found: list[Found] = []
    for i, spec in enumerate(m.events):
        column = spec.column
        if spec.kind == Kind.CALL_NATURE:
            column = None if spec.at == FIRST else spec.at
        if column is None or row[column] is None:
            continue
        value = row[column] or ""
        received = spec.kind == Kind.CALL_RECEIVED
        if not spec.is_list:
            found.append(Found(i, column, value, None, received))
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
            if when not in m.source.nulls:
                found.append(Found(i, column, when, unit, received))
    return found


def _first_of(row: Cells, columns: Columns | None) -> tuple[str | None, str | None]:
    """The first non-empty value of the columns, and the column it came from."""
    names = as_list(columns)
    for name in names:
        if row[name] is not None:
            return row[name], name
    return None, names[0] if names else None


def _event(
    m: Mapping,
    agency: str,
    row: Cells,
    spec: EventSpec,
    call_id: str,
    at: datetime,
    unit: str | None,
) -> Record | None:
    data: dict[str, str] = {}
    actor = subject = None
    if spec.kind == Kind.CALL_NATURE:
        subject, column = _first_of(row, spec.code)
        if subject is None:
            return None
        if (spec.codes is not None or spec.code_pattern is not None) and not (
            subject in (spec.codes or ())
            or (spec.code_pattern and re.fullmatch(spec.code_pattern, subject))
        ):
            raise ParseError(f"unknown nature code {subject!r}", column)
        data["code"] = subject
        text = _first_of(row, spec.text)[0]
        if text is not None:
            data["text"] = text
    elif spec.kind in UNIT_KINDS:
        subject, column = (unit, None) if spec.is_list else _first_of(row, spec.unit)
        if subject is None:
            raise ParseError(f"no unit for the {spec.kind} time in {spec.column}", column)
        data["unit"] = subject
    elif spec.kind == Kind.CALL_TRANSFERRED:
        subject = _first_of(row, spec.to)[0]
        if subject is not None:
            data["to"] = subject
    elif spec.kind == Kind.CALL_ANSWERED:
        actor = _first_of(row, spec.actor)[0]
    elif spec.kind == Kind.CALL_RECEIVED:
        psap = m.call.psap or _first_of(row, m.call.psap_column)[0]
        if psap is not None:
            data["psap"] = psap
    instant = at.astimezone(UTC).isoformat()
    parts = (agency, call_id, spec.kind, subject or "", instant)
    event: Record = {
        "event_id": derive_id(ID_PREFIX, *parts),
        "call_id": call_id,
        "agency": agency,
        "kind": spec.kind,
        "at": at.isoformat(),
        "source": "cad",
        "data": data,
    }
    if actor is not None:
        event["actor"] = actor
    return event
