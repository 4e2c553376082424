"""Hypothesis on the CAD delimited parser and its mapping files (issue 6, fuzzing): any line,
any mapping, gives events or the module's own refusal (ParseError, MappingError), never
another exception. The EIDO parser has its own (test_eido_properties.py). Derandomized."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cad_adapters.core import ParseError
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
HEADER = ",".join(RVFD.named_columns().values()).encode()
SAMPLE = (
    b'15555,10000031,1/1/10 12:00 AM,NULL,NULL,NULL,MA,33C2,"WAVE1=06:51:33, M5=07:05:17",'
    b"NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,"
)


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A line near one the parser reads: the sample with bytes inserted, cut or replaced."""
    base = draw(st.sampled_from([SAMPLE, HEADER]))
    at = draw(st.integers(0, len(base)))
    junk = draw(st.binary(max_size=8) | st.sampled_from([b",", b'"', b"=", b"\r", b"\xff"]))
    return draw(
        st.sampled_from([base[:at] + junk + base[at:], base[:at] + base[at + len(junk) :], junk])
    )


@FUZZ
@given(st.lists(lines() | st.binary(max_size=80), min_size=1, max_size=4))
def test_a_delimited_line_gives_events_or_a_parse_error(records: list[bytes]) -> None:
    stream = DelimitedFormat(RVFD, "A").stream()
    for record in records:
        try:
            stream.parse(record)
        except ParseError as exc:
            assert exc.reason


KEYS = {
    "source": ["format", "delimiter", "quote", "encoding", "header", "columns", "nulls", "fields"],
    "time": ["zone", "ambiguous", "formats", "date_column", "date_formats"],
    "call": ["id", "psap", "psap_column"],
}
VALUES = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6)
VALUE = VALUES | st.lists(VALUES, max_size=3) | st.dictionaries(st.text(max_size=3), VALUES)


@st.composite
def mappings(draw: st.DrawFn) -> dict[str, Any]:
    """The preset's own mapping with a few keys replaced by odd values."""
    data: dict[str, Any] = RVFD.model_dump(by_alias=True, exclude_none=True)
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
        assert str(exc)
        return
    stream = DelimitedFormat(mapping, "A").stream()
    for record in (HEADER, SAMPLE):
        with contextlib.suppress(ParseError):
            stream.parse(record)
