"""The declarative delimited / fixed-width CAD parser: mapping checks, times and zones, the real
RVFD sample, the NERIS field names, malformed lines."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.paths import REPO

from cad_adapters.core import ParseError, Record
from cad_adapters.delimited import DelimitedFormat
from cad_adapters.mapping import Mapping, MappingError, load_mapping, mapping_from

AGENCY = "RV"
RVFD_HEADER = (
    b"fdid,incident_num,incident_date,Mutual_Aid_FDID,Mutual_Aid_State,Mutual_Aid_Incident_Num,"
    b"response_level,call_type,Unit_Dispatch_Times,Unit_Enroute_Times,Unit_Arrive_Times,"
    b"Unit_At_Patient_Times,Unit_Enroute_To_Hospital_Times,Unit_Arrive_At_Hospital_Times,"
    b"Unit_Staging_Times,Unit_Fire_Out_Times,Unit_Clear_Times,Time_In_Service,disposition_remarks"
)

# docs/adapters.md's worked example (docs/examples/metro911.toml): a fictional pipe-delimited
# export, one row per unit assignment.
METRO = (REPO / "docs" / "examples" / "metro911.toml").read_text("utf-8")

FIXED = """
[source]
format = "fixed"
header = true
fields = { call = [0, 8], date = [8, 18], unit = [18, 24], dispatched = [24, 32], code = [32, 37] }

[time]
zone = "America/Chicago"
formats = ["%H:%M:%S"]
date_column = "date"

[call]
id = "call"

[[events]]
kind = "unit.dispatched"
column = "dispatched"
unit = "unit"

[[events]]
kind = "call.nature"
code = "code"
at = "first"
codes = ["9E1", "9D1"]
"""


@functools.cache
def fixed_mapping() -> Mapping:
    return mapping_from(tomllib.loads(FIXED))


def mapping(tmp_path: Path, text: str, name: str = "m.toml") -> Mapping:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return load_mapping(path)


def parse(m: Mapping, *lines: bytes) -> list[Record]:
    """Every event of the lines, read as one file."""
    stream = DelimitedFormat(m, AGENCY).stream()
    return [event for line in lines for event in stream.parse(line)]


def fails(m: Mapping, *lines: bytes) -> ParseError:
    """The ParseError of the last line (the ones before it must parse)."""
    stream = DelimitedFormat(m, AGENCY).stream()
    for line in lines[:-1]:
        stream.parse(line)
    with pytest.raises(ParseError) as caught:
        stream.parse(lines[-1])
    return caught.value


def brief(events: list[Record]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e["kind"], e["at"], e["data"]) for e in events]


NULLS_7 = [b"NULL"] * 7


def rvfd_row(date: bytes, code: bytes, dispatch: bytes, arrive: bytes, num: bytes = b"1") -> bytes:
    return b",".join(
        [b"15555", num, date, *[b"NULL"] * 3, b"MN", code, dispatch, b"NULL", arrive, *NULLS_7, b""]
    )


# --- the real RVFD sample --------------------------------------------------------------------


def rvfd_lines(shared: Path) -> list[bytes]:
    return (shared / "samples" / "rvfd_calls_2010_2020_subset.csv").read_bytes().split(b"\n")


def test_rvfd_sample_every_row_read(shared: Path) -> None:
    lines = rvfd_lines(shared)
    stream = DelimitedFormat(load_mapping("rvfd"), AGENCY).stream()
    events: list[Record] = []
    rejected: list[str] = []
    for line in lines:
        try:
            events.extend(stream.parse(line))
        except ParseError as exc:
            assert (exc.reason, exc.field) == ("no time in the row to place its events", None)
            rejected.append(line.split(b",")[1].decode())
    rows = list(csv.DictReader(io.StringIO(b"\n".join(lines).decode())))
    timeless = [
        r["incident_num"]
        for r in rows
        if r["Unit_Dispatch_Times"] == "NULL" and r["Unit_Arrive_Times"] == "NULL"
    ]
    assert len(rows) == 274 and rejected == timeless and len(timeless) == 14
    kinds = [e["kind"] for e in events]
    # 260 rows with times: one nature each, 822 distinct (unit, time) dispatches, 460 arrivals.
    assert (kinds.count("call.nature"), kinds.count("unit.dispatched")) == (260, 822)
    assert (kinds.count("unit.on_scene"), len(events)) == (460, 1542)
    assert {e["at"][-6:] for e in events} == {"-06:00", "-05:00"}  # CST and CDT
    assert len({e["event_id"] for e in events}) == len(events)


def test_rvfd_incident_10000788_by_hand(shared: Path) -> None:
    (line,) = [line for line in rvfd_lines(shared) if b",10000788," in line]
    events = parse(load_mapping("rvfd"), RVFD_HEADER, line)
    assert {e["call_id"] for e in events} == {"10000788"}
    assert brief(events) == [
        ("unit.dispatched", "2010-01-13T18:36:03-06:00", {"unit": "MALC1"}),
        ("unit.dispatched", "2010-01-13T18:36:03-06:00", {"unit": "RAYM10"}),
        ("unit.dispatched", "2010-01-13T18:36:03-06:00", {"unit": "M3"}),
        ("call.nature", "2010-01-13T18:36:03-06:00", {"code": "9E1"}),
        ("unit.on_scene", "2010-01-13T18:40:57-06:00", {"unit": "MALC1"}),
    ]


def test_rvfd_summer_row_with_the_later_date_format(shared: Path) -> None:
    (line,) = [line for line in rvfd_lines(shared) if b",16012770," in line]
    events = parse(load_mapping("rvfd"), RVFD_HEADER, line)
    assert brief(events)[:4] == [
        ("unit.dispatched", "2016-07-04T02:09:41-05:00", {"unit": "WAVE2"}),
        ("unit.dispatched", "2016-07-04T02:09:41-05:00", {"unit": "GRE310"}),
        ("unit.dispatched", "2016-07-04T02:09:41-05:00", {"unit": "M5"}),
        ("call.nature", "2016-07-04T02:09:41-05:00", {"code": "9E1"}),
    ]


def test_rvfd_units_listed_twice(shared: Path) -> None:
    lines = {line.split(b",")[1]: line for line in rvfd_lines(shared)[1:] if line}
    m = load_mapping("rvfd")
    # EMS1 listed twice at one time: one event; FIRT1 dispatched at two times: two events.
    same = [e for e in parse(m, RVFD_HEADER, lines[b"13017129"]) if e["data"].get("unit") == "EMS1"]
    assert [e["kind"] for e in same] == ["unit.dispatched", "unit.on_scene"]
    twice = parse(m, RVFD_HEADER, lines[b"10013057"])
    firt = [e for e in twice if e["kind"] == "unit.dispatched" and e["data"]["unit"] == "FIRT1"]
    assert [e["at"] for e in firt] == ["2010-08-17T08:05:58-05:00", "2010-08-17T08:14:29-05:00"]
    assert firt[0]["event_id"] != firt[1]["event_id"]


def test_rereading_a_file_repeats_the_same_ids(shared: Path) -> None:
    m = load_mapping("rvfd")
    lines = rvfd_lines(shared)[:12]

    def ids() -> list[str]:
        stream = DelimitedFormat(m, AGENCY).stream()
        out = []
        for line in lines:
            with contextlib.suppress(ParseError):  # the rows without times
                out += [e["event_id"] for e in stream.parse(line)]
        return out

    first = ids()
    assert first and first == ids()
    other = DelimitedFormat(m, "OTHER").stream()
    assert other.parse(lines[0]) == [] and other.parse(lines[2])[0]["event_id"] not in first


# --- times: rollover, zones, DST (own fixtures in the RVFD layout) ------------------------------


def test_times_of_day_after_midnight_roll_over_to_the_next_day() -> None:
    row = rvfd_row(
        b"3/1/10 12:00 AM", b"9E1", b'"A1=23:58:10, M2=00:02:30"', b'"M2=00:09:00, A1=23:59:59"'
    )
    assert brief(parse(load_mapping("rvfd"), RVFD_HEADER, row)) == [
        ("unit.dispatched", "2010-03-01T23:58:10-06:00", {"unit": "A1"}),
        ("call.nature", "2010-03-01T23:58:10-06:00", {"code": "9E1"}),
        ("unit.on_scene", "2010-03-01T23:59:59-06:00", {"unit": "A1"}),
        ("unit.dispatched", "2010-03-02T00:02:30-06:00", {"unit": "M2"}),
        ("unit.on_scene", "2010-03-02T00:09:00-06:00", {"unit": "M2"}),
    ]


def test_offsets_follow_daylight_saving_around_the_spring_gap() -> None:
    # 2010-03-14: Central clocks went from 02:00 CST straight to 03:00 CDT.
    row = rvfd_row(b"3/14/10 12:00 AM", b"9E1", b"A1=01:59:59", b"A1=03:00:00")
    assert [e["at"] for e in parse(load_mapping("rvfd"), RVFD_HEADER, row)] == [
        "2010-03-14T01:59:59-06:00",
        "2010-03-14T01:59:59-06:00",
        "2010-03-14T03:00:00-05:00",
    ]
    gap = rvfd_row(b"3/14/10 12:00 AM", b"9E1", b"A1=02:30:00", b"NULL")
    error = fails(load_mapping("rvfd"), RVFD_HEADER, gap)
    assert error.field == "Unit_Dispatch_Times"
    assert "2010-03-14 02:30:00 does not exist in America/Chicago" in error.reason


def test_a_fall_back_time_is_the_first_occurrence_unless_the_mapping_says_otherwise(
    tmp_path: Path,
) -> None:
    # 2010-11-07: 01:00-02:00 happened twice in Central time (CDT, then CST).
    row = rvfd_row(b"11/7/10 12:00 AM", b"9E1", b"A1=01:30:00", b"NULL")
    assert parse(load_mapping("rvfd"), RVFD_HEADER, row)[0]["at"] == "2010-11-07T01:30:00-05:00"
    preset = REPO / "cad_adapters" / "presets" / "rvfd.toml"
    text = preset.read_text("utf-8")
    later = mapping(tmp_path, text.replace('ambiguous = "earlier"', 'ambiguous = "later"'))
    assert parse(later, RVFD_HEADER, row)[0]["at"] == "2010-11-07T01:30:00-06:00"
    strict = mapping(tmp_path, text.replace('ambiguous = "earlier"', 'ambiguous = "reject"'))
    error = fails(strict, RVFD_HEADER, row)
    assert error.field == "Unit_Dispatch_Times" and "happens twice" in error.reason


def test_the_later_event_at_a_repeated_hour_still_sorts_after(tmp_path: Path) -> None:
    # 01:50 CDT then 01:10 CST (40 minutes later): ordered by instant, not by wall clock.
    m = mapping(tmp_path, METRO)
    line = (
        b"24-9|0042|11/03/2024 01:50:00|N/A||N/A|N/A|N/A|N/A|N/A|M1|"
        b"2024-11-03T01:10:00-05:00|N/A|N/A"
    )
    assert [e["kind"] for e in parse(m, line)] == ["call.received", "unit.dispatched"]


CLOCK_KINDS = {
    "recv": "call.received",
    "ans": "call.answered",
    "disp": "unit.dispatched",
    "end": "call.ended",
}


def clock_mapping(*columns: str, ambiguous: str = "earlier") -> Mapping:
    """Times of day beside a date column, Central time, one event kind per named time column."""
    events = [
        {"kind": CLOCK_KINDS[c], "column": c} | ({"unit": "u"} if c == "disp" else {})
        for c in columns
    ]
    return mapping_from(
        {
            "source": {"header": False, "columns": ["C", "u", "date", *columns]},
            "time": {
                "zone": "America/Chicago",
                "ambiguous": ambiguous,
                "formats": ["%H:%M:%S", "%H:%M"],
                "date_column": "date",
            },
            "call": {"id": "C"},
            "events": events,
        }
    )


def clock(m: Mapping, row: str) -> dict[str, str]:
    """Each kind's `at` in one row."""
    return {e["kind"]: e["at"] for e in parse(m, row.encode())}


@pytest.mark.parametrize(
    ("received", "dispatched", "expected"),
    [
        ("23:58", "00:03", ("2024-05-03T23:58:00-05:00", "2024-05-04T00:03:00-05:00")),
        ("10:00", "10:02", ("2024-05-03T10:00:00-05:00", "2024-05-03T10:02:00-05:00")),
    ],
)
def test_rollover_does_not_depend_on_the_column_order(
    received: str, dispatched: str, expected: tuple[str, str]
) -> None:
    want = dict(zip(("call.received", "unit.dispatched"), expected, strict=True))
    assert clock(clock_mapping("recv", "disp"), f"C1,M1,2024-05-03,{received},{dispatched}") == want
    assert clock(clock_mapping("disp", "recv"), f"C1,M1,2024-05-03,{dispatched},{received}") == want


def test_unit_lists_roll_over_by_time_not_by_list_order() -> None:
    row = rvfd_row(b"3/1/10 12:00 AM", b"9E1", b'"M2=00:02:30, A1=23:58:10"', b"M2=00:09:00")
    assert brief(parse(load_mapping("rvfd"), RVFD_HEADER, row)) == [
        ("unit.dispatched", "2010-03-01T23:58:10-06:00", {"unit": "A1"}),
        ("call.nature", "2010-03-01T23:58:10-06:00", {"code": "9E1"}),
        ("unit.dispatched", "2010-03-02T00:02:30-06:00", {"unit": "M2"}),
        ("unit.on_scene", "2010-03-02T00:09:00-06:00", {"unit": "M2"}),
    ]


def test_times_of_day_on_the_fall_back_night_follow_the_received_time() -> None:
    # 2024-11-03: Central clocks went from 01:59:59 CDT back to 01:00:00 CST.
    m = clock_mapping("recv", "disp")
    # 01:50 CDT, then 01:05 CST 15 minutes later (not 01:05 CDT, 45 minutes before the call)
    assert clock(m, "C1,M1,2024-11-03,01:50:00,01:05:00") == {
        "call.received": "2024-11-03T01:50:00-05:00",
        "unit.dispatched": "2024-11-03T01:05:00-06:00",
    }
    assert clock(clock_mapping("disp", "recv"), "C1,M1,2024-11-03,01:05:00,01:50:00") == {
        "call.received": "2024-11-03T01:50:00-05:00",
        "unit.dispatched": "2024-11-03T01:05:00-06:00",
    }
    # 01:58 is 5 minutes before 02:03 CST (the second 01:58), not 65
    assert clock(m, "C1,M1,2024-11-03,01:58:00,02:03:00") == {
        "call.received": "2024-11-03T01:58:00-06:00",
        "unit.dispatched": "2024-11-03T02:03:00-06:00",
    }
    # across midnight into the fall-back night: 01:20 is 90 minutes after 23:50, the first 01:20
    assert clock(m, "C1,M1,2024-11-02,23:50:00,01:20:00") == {
        "call.received": "2024-11-02T23:50:00-05:00",
        "unit.dispatched": "2024-11-03T01:20:00-05:00",
    }


def test_a_call_inside_the_repeated_hour_is_left_to_the_ambiguous_rule() -> None:
    row = "C1,M1,2024-11-03,01:05:00,01:50:00"  # both CDT or both CST: the row cannot tell
    assert clock(clock_mapping("recv", "disp"), row) == {
        "call.received": "2024-11-03T01:05:00-05:00",
        "unit.dispatched": "2024-11-03T01:50:00-05:00",
    }
    assert clock(clock_mapping("recv", "disp", ambiguous="later"), row) == {
        "call.received": "2024-11-03T01:05:00-06:00",
        "unit.dispatched": "2024-11-03T01:50:00-06:00",
    }
    strict = clock_mapping("recv", "disp", ambiguous="reject")
    error = fails(strict, row.encode())
    assert (error.field, error.reason) == (
        "recv",
        "2024-11-03 01:05:00 happens twice in America/Chicago (the clocks went back)",
    )
    # "reject" refuses a row with a repeated wall time even where its neighbours would tell
    error = fails(strict, b"C1,M1,2024-11-03,01:50,02:03")
    assert error.field == "recv" and "01:50:00 happens twice" in error.reason


def test_times_shortly_or_well_before_the_received_time_stay_on_its_day() -> None:
    m = clock_mapping("recv", "ans", "end")
    # answered 2 s before received (two systems' clocks), ended 25 minutes after midnight
    assert clock(m, "C1,M1,2024-05-03,23:59:59,23:59:58,00:25:00") == {
        "call.answered": "2024-05-03T23:59:58-05:00",
        "call.received": "2024-05-03T23:59:59-05:00",
        "call.ended": "2024-05-04T00:25:00-05:00",
    }
    # answered two hours before received: a bad row, but not a call of 22 hours
    assert clock(m, "C1,M1,2024-05-03,10:00,08:00,10:20")["call.answered"] == (
        "2024-05-03T08:00:00-05:00"
    )


CENTRAL = ZoneInfo("America/Chicago")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["2024-05-03", "2024-11-02", "2024-11-03", "2024-03-09", "2024-03-10"]),
    st.integers(0, 86399),
    st.lists(st.integers(-299, 12 * 3600 - 1), min_size=3, max_size=3),
    st.permutations(["recv", "ans", "disp", "end"]),
)
def test_times_of_day_placed_the_same_in_any_column_order(
    day: str, start: int, after: list[int], order: list[str]
) -> None:
    """A call read from its wall times comes out the same whatever the column order, and exactly
    as it was where each wall time names one instant and none falls on the day before."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=CENTRAL).astimezone(UTC)
    instants = [midnight + timedelta(seconds=start + s) for s in [0, *after]]  # UTC arithmetic
    true = {c: at.astimezone(CENTRAL) for c, at in zip(CLOCK_KINDS, instants, strict=True)}
    received = true["recv"]
    outcomes = []
    for columns in (list(CLOCK_KINDS), order):
        cells = ",".join(f"{true[c]:%H:%M:%S}" for c in columns)
        try:
            outcomes.append(clock(clock_mapping(*columns), f"C1,M1,{received:%Y-%m-%d},{cells}"))
        except ParseError as exc:
            outcomes.append({"error": exc.reason})
    assert outcomes[0] == outcomes[1]
    walls = [at.replace(tzinfo=None) for at in true.values()]
    if all(_one_instant(w) and w.date() >= received.date() for w in walls):
        assert outcomes[0] == {CLOCK_KINDS[c]: at.isoformat() for c, at in true.items()}


def _one_instant(wall: datetime) -> bool:
    """Whether a Central wall time names exactly one instant."""
    a, b = wall.replace(tzinfo=CENTRAL, fold=0), wall.replace(tzinfo=CENTRAL, fold=1)
    exists = a.astimezone(UTC).astimezone(CENTRAL).replace(tzinfo=None) == wall
    return exists and a.utcoffset() == b.utcoffset()


def test_a_time_of_day_in_the_spring_gap_of_the_next_day() -> None:
    m = clock_mapping("recv", "disp")
    assert clock(m, "C1,M1,2024-03-09,23:50,03:10")["unit.dispatched"] == (
        "2024-03-10T03:10:00-05:00"
    )
    error = fails(m, b"C1,M1,2024-03-09,23:50,02:30")
    assert error.field == "disp"
    assert error.reason == (
        "2024-03-10 02:30:00 does not exist in America/Chicago (the clocks went forward)"
    )


# --- malformed lines ------------------------------------------------------------------------


def test_a_row_with_no_time_is_a_reject_not_nothing() -> None:
    error = fails(
        load_mapping("rvfd"), RVFD_HEADER, rvfd_row(b"1/1/10 12:00 AM", b"9E1", b"NULL", b"NULL")
    )
    assert (error.reason, error.field) == ("no time in the row to place its events", None)


def test_impossible_date() -> None:
    row = rvfd_row(b"2/30/10 12:00 AM", b"9E1", b"A1=10:00:00", b"NULL")
    error = fails(load_mapping("rvfd"), RVFD_HEADER, row)
    assert error.field == "incident_date"
    assert error.reason.startswith("impossible date or time '2/30/10 12:00 AM'")


def test_a_time_in_no_known_format() -> None:
    error = fails(
        load_mapping("rvfd"), RVFD_HEADER, rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=7pm", b"NULL")
    )
    assert error.field == "Unit_Dispatch_Times" and "'7pm' matches none" in error.reason


def test_truncated_lines() -> None:
    m = load_mapping("rvfd")
    cut = rvfd_row(b"1/1/10 0:00", b"9E1", b'"A1=10:00:00, M2=10:01:00"', b"NULL")
    quoted = fails(m, RVFD_HEADER, cut[: cut.index(b"M2")])
    assert quoted.field == "Unit_Dispatch_Times" and "quoted cell is not closed" in quoted.reason
    short = fails(m, RVFD_HEADER, b"15555,1,1/1/10 0:00")
    assert short.field == "Mutual_Aid_FDID" and short.reason.startswith("truncated line: 3 cells")
    longer = fails(m, RVFD_HEADER, cut + b",extra")
    assert longer.field is None and "20 cells where there are 19 columns" in longer.reason


def test_bytes_not_in_the_encoding() -> None:
    row = rvfd_row(b"1/1/10 0:00", "9E1 café".encode("latin-1"), b"A1=10:00:00", b"NULL")
    error = fails(load_mapping("rvfd"), RVFD_HEADER, row)
    assert error.field == "encoding" and "not valid utf-8 at byte" in error.reason


def test_missing_call_id() -> None:
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=10:00:00", b"NULL", num=b"NULL")
    error = fails(load_mapping("rvfd"), RVFD_HEADER, row)
    assert (error.reason, error.field) == ("no call id", "incident_num")


def test_a_malformed_unit_list() -> None:
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b'"A1=10:00:00, 10:01:00"', b"NULL")
    error = fails(load_mapping("rvfd"), RVFD_HEADER, row)
    assert error.field == "Unit_Dispatch_Times" and "'10:01:00' is not UNIT=TIME" in error.reason


def test_header_without_a_mapped_column_rejects_it_and_every_row() -> None:
    header = RVFD_HEADER.replace(b"call_type", b"nature")
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=10:00:00", b"NULL")
    stream = DelimitedFormat(load_mapping("rvfd"), AGENCY).stream()
    for line in (header, row):
        with pytest.raises(ParseError) as caught:
            stream.parse(line)
        assert caught.value.field == "call_type" and "events[0].code" in caught.value.reason


def test_an_unreadable_header_line_rejects_every_row() -> None:
    stream = DelimitedFormat(load_mapping("rvfd"), AGENCY).stream()
    with pytest.raises(ParseError, match=r"^truncated line: a quoted cell is not closed"):
        stream.parse(b'fdid,"incident_num')
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=10:00:00", b"NULL")
    with pytest.raises(ParseError, match=r"^the header line cannot be read: truncated line"):
        stream.parse(row)


def test_a_header_line_not_in_the_encoding_rejects_it_and_every_row() -> None:
    stream = DelimitedFormat(load_mapping("rvfd"), AGENCY).stream()
    header = RVFD_HEADER.replace(b"disposition_remarks", "disposition_remarqués".encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        stream.parse(header)
    assert caught.value.field == "encoding" and "not valid utf-8 at byte" in caught.value.reason
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=10:00:00", b"NULL")
    for line in (row, row.replace(b"A1=", b"M2=")):  # no data line is taken for the header
        with pytest.raises(ParseError) as caught:
            stream.parse(line)
        assert caught.value.reason.startswith(
            "the header line cannot be read: not valid utf-8 at byte"
        )


def test_a_fixed_width_title_not_in_the_encoding_is_a_reject_and_rows_still_read() -> None:
    stream = DelimitedFormat(fixed_mapping(), AGENCY).stream()
    with pytest.raises(ParseError) as caught:
        stream.parse("CALL    DATE      UNIT  DISP    CODE \xa7".encode("latin-1"))
    assert caught.value.field == "encoding"
    row = b"C0000007" + b"2010-01-13" + b"M3    " + b"23:59:30" + b"9E1  "
    assert brief(stream.parse(row))[0] == (
        "unit.dispatched",
        "2010-01-13T23:59:30-06:00",
        {"unit": "M3"},
    )


def test_blank_lines_and_crlf() -> None:
    row = rvfd_row(b"1/1/10 0:00", b"9E1", b"A1=10:00:00", b"NULL") + b"\r"
    events = parse(load_mapping("rvfd"), RVFD_HEADER + b"\r", b"", b"  \r", row)
    assert brief(events)[0] == ("unit.dispatched", "2010-01-01T10:00:00-06:00", {"unit": "A1"})


# --- the pipe-delimited worked example, fixed width -----------------------------------------


def test_pipe_delimited_export_without_header(tmp_path: Path) -> None:
    m = mapping(tmp_path, METRO)
    # 2024-03-10: Eastern clocks went forward at 02:00 during this call.
    first = (
        b"24-001|0042|03/10/2024 01:59:30|03/10/2024 01:59:41|T17|N/A|N/A|09-E-01|"
        b"CARDIAC ARREST \xd6|03/10/2024 03:00:40|M12|03/10/2024 03:01:10|03/10/2024 03:09:55|"
        b"2024-03-10T03:04:00-04:00"
    )
    second = first.replace(b"|M12|03/10/2024 03:01:10|03/10/2024 03:09:55|", b"|E4|N/A|N/A|")
    events = parse(m, first, second)
    assert {(e["call_id"], e["agency"], e["source"]) for e in events} == {("24-001", AGENCY, "cad")}
    assert brief(events) == [
        ("call.received", "2024-03-10T01:59:30-05:00", {"psap": "0042"}),
        ("call.answered", "2024-03-10T01:59:41-05:00", {}),
        (
            "call.nature",
            "2024-03-10T03:00:40-04:00",
            {"code": "09-E-01", "text": "CARDIAC ARREST Ö"},
        ),
        ("unit.dispatched", "2024-03-10T03:01:10-04:00", {"unit": "M12"}),
        ("call.ended", "2024-03-10T03:04:00-04:00", {}),
        ("unit.on_scene", "2024-03-10T03:09:55-04:00", {"unit": "M12"}),
        # the second row repeats the call's events with the same ids: the service stores them once
        ("call.received", "2024-03-10T01:59:30-05:00", {"psap": "0042"}),
        ("call.answered", "2024-03-10T01:59:41-05:00", {}),
        (
            "call.nature",
            "2024-03-10T03:00:40-04:00",
            {"code": "09-E-01", "text": "CARDIAC ARREST Ö"},
        ),
        ("call.ended", "2024-03-10T03:04:00-04:00", {}),
    ]
    assert events[1]["actor"] == "T17" and "actor" not in events[0]
    assert [e["event_id"] for e in events[6:]] == [events[i]["event_id"] for i in (0, 1, 2, 4)]


def test_transfer_and_unknown_nature_code(tmp_path: Path) -> None:
    m = mapping(tmp_path, METRO)
    line = (
        b"24-002|0042|03/11/2024 10:00:00|N/A|N/A|03/11/2024 10:00:20|EMS-CTR|N/A|N/A|N/A|N/A|"
        b"N/A|N/A|N/A"
    )
    assert brief(parse(m, line))[1] == (
        "call.transferred",
        "2024-03-11T10:00:20-04:00",
        {"to": "EMS-CTR"},
    )
    local = line.replace(
        b"|N/A|N/A|N/A|N/A|N/A|N/A|N/A", b"|SICK|N/A|03/11/2024 10:01:00|N/A|N/A|N/A|N/A"
    )
    error = fails(m, local)
    assert (error.reason, error.field) == ("unknown nature code 'SICK'", "nature")


def test_fixed_width_export(tmp_path: Path) -> None:
    m = mapping(tmp_path, FIXED)
    title = b"CALL    DATE      UNIT  DISP    CODE "
    rows = [
        b"C0000007" + b"2010-01-13" + b"M3    " + b"23:59:30" + b"9E1  ",
        b"C0000007" + b"2010-01-13" + b"E12   " + b"00:00:10" + b"9E1  ",
    ]
    assert brief(parse(m, title, rows[0])) == [
        ("unit.dispatched", "2010-01-13T23:59:30-06:00", {"unit": "M3"}),
        ("call.nature", "2010-01-13T23:59:30-06:00", {"code": "9E1"}),
    ]
    assert parse(m, title, rows[1])[0]["at"] == "2010-01-13T00:00:10-06:00"  # a row on its own
    short = fails(m, title, rows[0][:34])
    assert (short.field, short.reason) == (
        "code",
        "truncated line: 34 characters, the field ends at 37",
    )
    unknown = fails(m, title, rows[0].replace(b"9E1  ", b"9B1  "))
    assert (unknown.reason, unknown.field) == ("unknown nature code '9B1'", "code")


# --- NERIS ----------------------------------------------------------------------------------


def test_every_column_the_neris_preset_names_is_a_neris_field(shared: Path) -> None:
    folder = shared / "standards" / "neris"
    names: set[str] = set()
    for module in ("core_mod_dispatch.csv", "mod_unit_response.csv"):
        with (folder / module).open(newline="", encoding="utf-8") as f:
            names |= {row["name"] for row in csv.DictReader(f)}
    named = load_mapping("neris").named_columns()
    assert len(named) >= 8 and set(named.values()) <= names


def test_neris_export_one_row_per_unit() -> None:
    header = (
        b"dispatch_internal_id,dispatch_center_id,dispatch_time_call_arrival,"
        b"dispatch_time_call_answering,dispatch_determinate_code,dispatch_incident_code,"
        b"unit_id_linked,unit_id_reported,time_dispatch,time_on_scene"
    )
    rows = [
        b"9BR1,0042,2024-05-03T18:56:56+00:00,2024-05-03T18:56:57Z,09-E-01,ALS1,M7,,"
        b"2024-05-03T18:58:02+00:00,2024-05-03T19:04:40+00:00",
        b"9BR1,0042,2024-05-03T18:56:56+00:00,2024-05-03T18:56:57Z,,ALS1,,E702,"
        b"2024-05-03T18:59:10+00:00,",
    ]
    events = parse(load_mapping("neris"), b"\xef\xbb\xbf" + header, *rows)  # with a BOM
    assert brief(events) == [
        ("call.received", "2024-05-03T18:56:56+00:00", {"psap": "0042"}),
        ("call.answered", "2024-05-03T18:56:57+00:00", {}),
        ("call.nature", "2024-05-03T18:58:02+00:00", {"code": "09-E-01"}),  # mapping order on ties
        ("unit.dispatched", "2024-05-03T18:58:02+00:00", {"unit": "M7"}),
        ("unit.on_scene", "2024-05-03T19:04:40+00:00", {"unit": "M7"}),
        ("call.received", "2024-05-03T18:56:56+00:00", {"psap": "0042"}),
        ("call.answered", "2024-05-03T18:56:57+00:00", {}),
        ("call.nature", "2024-05-03T18:59:10+00:00", {"code": "ALS1"}),
        ("unit.dispatched", "2024-05-03T18:59:10+00:00", {"unit": "E702"}),
    ]
    assert events[0]["event_id"] == events[5]["event_id"]


# --- the mapping file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "call.ended"', 'kind = "call.recieved"'),
            "events[6].kind: unknown kind 'call.recieved'",
        ),
        (
            ('kind = "call.ended"', 'kind = "tcpr.started"'),
            "events[6].kind: 'tcpr.started' is not a CAD kind",
        ),
        (('"America/New_York"', '"America/Springfield"'), "time.zone: unknown time zone"),
        (
            ('to = "transfer_to"', 'unit = "transfer_to"'),
            "events[2].unit: not a key of call.transferred",
        ),
        (
            ('unit = "unit"', 'list = true\nunit = "unit"'),
            "events[4].unit: give a unit column or list = true",
        ),
        (
            ('column = "released"', 'column = "closed"'),
            "events[6].column: no column 'closed' in source.columns",
        ),
        (
            ('encoding = "cp1252"', 'encoding = "klingon"'),
            "source.encoding: unknown encoding 'klingon'",
        ),
        (('delimiter = "|"', 'delimiter = "||"'), "source.delimiter: String should have at most 1"),
        (("header = false", "header = false\nheaders = true"), "source.headers: unknown key"),
        (("header = false", "header = true"), "source.columns: only when header = false"),
        (('id = "incident"', 'ids = "incident"'), "call.id: required"),
        (
            ("code_pattern = '", "code_pattern = '(("),
            "events[3].code_pattern: not a regular expression",
        ),
        (
            ('formats = ["%m/%d/%Y %H:%M:%S", "iso"]', 'formats = ["%H:%M"]'),
            "time.formats[0]: '%H:%M' gives a time of day only",
        ),
        (('at = "nature_at"', ""), 'events[3].at: call.nature needs a time column or "first"'),
    ],
)
def test_mapping_errors_name_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in METRO
    with pytest.raises(MappingError) as caught:
        mapping(tmp_path, METRO.replace(change[0], change[1], 1))
    assert message in str(caught.value)


def test_mapping_files_that_are_not_there_or_not_toml(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"'nope' is neither a preset \(neris, rvfd\)"):
        load_mapping("nope")
    with pytest.raises(MappingError, match="is not valid TOML"):
        mapping(tmp_path, "[source\n")
    with pytest.raises(
        MappingError, match=r"source\.fields: a fixed-width source needs its fields"
    ):
        mapping(tmp_path, FIXED.replace("fields = {", "# fields = {"))


def test_presets_load() -> None:
    assert load_mapping("rvfd").time.zone == "America/Chicago"
    assert load_mapping("neris").call.id == "dispatch_internal_id"


# --- any bytes: events or a ParseError -------------------------------------------------------


PIECES = [b",", b'"', b"NULL", b"A1=23:10:00", b"9E1", b"2/30/10", b"3/14/10 0:00", b"\xff"]
PIECES += [b"=", b" ", b"02:30:00", b"1", b"12:00 AM", b"C0000007", b"2010-01-13", b"\r"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join))
def test_any_line_gives_events_or_a_parse_error(line: bytes) -> None:
    for m, first in ((load_mapping("rvfd"), RVFD_HEADER), (fixed_mapping(), b"title")):
        stream = DelimitedFormat(m, AGENCY).stream()
        stream.parse(first)
        try:
            events = stream.parse(line)
        except ParseError as exc:
            assert exc.reason
            continue
        assert all(e["agency"] == AGENCY for e in events)
