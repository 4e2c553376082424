"""Hypothesis on the CAD delimited parser and its mapping files: any line, any mapping, gives
canonical events in time order or the module's own refusal naming what is wrong (ParseError,
MappingError), never another exception. The EIDO parser has its own (test_eido_properties.py).
Derandomized."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cad_adapters.core import ParseError, Record
from cad_adapters.delimited import DelimitedFormat
from cad_adapters.mapping import MappingError, load_mapping, mapping_from

FUZZ = settings(
    max_examples=int(os.environ.get("TCPR_FUZZ_PARSER_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
RVFD = load_mapping("rvfd")
HEADER = (
    b"fdid,incident_num,incident_date,Mutual_Aid_FDID,Mutual_Aid_State,Mutual_Aid_Incident_Num,"
    b"response_level,call_type,Unit_Dispatch_Times,Unit_Enroute_Times,Unit_Arrive_Times,"
    b"Unit_At_Patient_Times,Unit_Enroute_To_Hospital_Times,Unit_Arrive_At_Hospital_Times,"
    b"Unit_Staging_Times,Unit_Fire_Out_Times,Unit_Clear_Times,Time_In_Service,disposition_remarks"
)  # the export's own header line: SAMPLE's 19 cells
SAMPLE = (
    b'15555,10000031,1/1/10 12:00 AM,NULL,NULL,NULL,MA,33C2,"WAVE1=06:51:33, M5=07:05:17",'
    b"NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,"
)


def test_the_lines_fuzzed_start_from_one_the_parser_reads() -> None:
    stream = DelimitedFormat(RVFD, "A").stream()
    assert stream.parse(HEADER) == []
    # WAVE1 dispatched 06:51:33, the nature 33C2 at that first time, M5 at 07:05:17 (CST).
    assert [(e["kind"], e["at"]) for e in stream.parse(SAMPLE)] == [
        ("unit.dispatched", "2010-01-01T06:51:33-06:00"),
        ("call.nature", "2010-01-01T06:51:33-06:00"),
        ("unit.dispatched", "2010-01-01T07:05:17-06:00"),
    ]


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A line near one the parser reads: the sample with bytes inserted, cut or replaced."""
    base = draw(st.sampled_from([SAMPLE, HEADER]))
    at = draw(st.integers(0, len(base)))
    junk = draw(st.binary(max_size=8) | st.sampled_from([b",", b'"', b"=", b"\r", b"\xff"]))
    return draw(
        st.sampled_from([base[:at] + junk + base[at:], base[:at] + base[at + len(junk) :], junk])
    )


def _well_formed(events: list[Record]) -> None:
    """What a row's events promise: the stream's agency, distinct ids, aware times in order."""
    instants = [datetime.fromisoformat(e["at"]).astimezone(UTC) for e in events]
    assert all(e["agency"] == "A" for e in events)
    assert len({e["event_id"] for e in events}) == len(events)
    assert instants == sorted(instants)


def _refused(exc: ParseError) -> None:
    assert exc.reason and str(exc).endswith(exc.reason)


@FUZZ
@given(st.lists(lines() | st.binary(max_size=80), min_size=1, max_size=4))
def test_a_delimited_line_gives_events_or_a_parse_error(records: list[bytes]) -> None:
    stream = DelimitedFormat(RVFD, "A").stream()
    for record in records:
        try:
            events = stream.parse(record)
        except ParseError as exc:
            _refused(exc)
            continue
        _well_formed(events)


KEYS = {
    "source": ["format", "delimiter", "quote", "encoding", "header", "columns", "nulls", "fields"],
    "time": ["zone", "ambiguous", "formats", "date_column", "date_formats"],
    "call": ["id", "psap", "psap_column"],
}
VALUES = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6)
VALUE = VALUES | st.lists(VALUES, max_size=3) | st.dictionaries(st.text(max_size=3), VALUES)


def _preset() -> dict[str, Any]:
    """The preset as its file gives it (with defaults, a kind gets keys it does not take)."""
    return RVFD.model_dump(by_alias=True, exclude_unset=True)


def test_the_mappings_fuzzed_start_from_one_that_loads() -> None:
    assert mapping_from(_preset()) == RVFD


@st.composite
def mappings(draw: st.DrawFn) -> dict[str, Any]:
    """The preset's own mapping with a few keys replaced by odd values."""
    data: dict[str, Any] = _preset()
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from([*KEYS, "events"]))
        if table == "events":
            i = draw(st.integers(0, len(data["events"]) - 1))
            data["events"][i][draw(st.sampled_from(["kind", "column", "list", "at"]))] = draw(VALUE)
        else:
            data[table][draw(st.sampled_from(KEYS[table]))] = draw(VALUE)
    return data


@FUZZ
@given(mappings())
def test_a_mapping_loads_or_is_refused_by_key(data: dict[str, Any]) -> None:
    try:
        mapping = mapping_from(data)
    except MappingError as exc:
        # Each refusal starts with the key at fault: `source.delimiter: ...`, `events[0].kind: ...`.
        assert re.match(r"(source|time|call|events)[.\[]", str(exc)) and ": " in str(exc), exc
        return
    stream = DelimitedFormat(mapping, "A").stream()
    for record in (HEADER, SAMPLE):
        try:
            events = stream.parse(record)
        except ParseError as exc:
            _refused(exc)
            continue
        _well_formed(events)
