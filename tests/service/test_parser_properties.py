"""Hypothesis on the service's parsers of outside input (issue 6, fuzzing): whatever arrives,
the answer is a value or the module's own refusal, never another exception (KeyError,
TypeError, RecursionError, UnicodeDecodeError, lxml internals...).

Derandomized: CI runs the same cases every time; raise the examples locally to explore."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contract.wire import CanonicalEvent
from service.api.periods import period_bound
from service.api.refusals import status_of
from service.ingest import parse_events
from service.qi.nemsis import NemsisError
from service.qi.nemsis import parse as parse_nemsis
from service.refused import Refused
from service.settings import Settings
from service.store.audit_list import Cursor

FUZZ = settings(
    max_examples=int(os.environ.get("TCPR_FUZZ_PARSER_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NEMSIS_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared/standards/nemsis/samples"

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["2026-01-15T14:00:00-05:00", "call.received", "A", "\x00", "\ud800"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
EVENT_KEYS = ["event_id", "call_id", "agency", "kind", "at", "source", "actor", "data"]
VALID = {
    "event_id": "e1",
    "call_id": "C1",
    "agency": "A",
    "kind": "call.received",
    "at": "2026-01-15T14:00:00-05:00",
}


@st.composite
def near_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few fields replaced or removed: most of the wire model is reached."""
    out: dict[str, Any] = dict(VALID)
    for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=3)):
        if draw(st.booleans()):
            out[key] = draw(JSON)
        else:
            out.pop(key, None)
    return out


@FUZZ
@given(st.one_of(JSON, near_events()))
def test_the_wire_model_validates_or_refuses(value: Any) -> None:
    with contextlib.suppress(ValidationError):
        CanonicalEvent.model_validate(value)


def _bodies() -> st.SearchStrategy[bytes]:
    encoded = st.one_of(JSON, near_events(), st.lists(near_events(), max_size=3)).map(
        lambda v: json.dumps(v).encode()
    )
    return st.one_of(st.binary(max_size=200), encoded, encoded.map(lambda b: b[: len(b) // 2]))


@FUZZ
@given(_bodies())
def test_an_ingest_body_parses_or_is_refused_with_a_4xx(body: bytes) -> None:
    try:
        parse_events(body, max_batch=5)
    except Refused as refusal:
        assert 400 <= status_of(refusal) < 500 and refusal.reason


def _nemsis_samples() -> list[bytes]:
    if not NEMSIS_SAMPLES.is_dir():
        pytest.skip(f"the shared NEMSIS samples are not at {NEMSIS_SAMPLES} (CI has ../shared)")
    return [p.read_bytes() for p in sorted(NEMSIS_SAMPLES.glob("*.xml"))[:3]]


@FUZZ
@given(st.data())
def test_a_nemsis_document_parses_or_is_refused(data: st.DataObject) -> None:
    sample = data.draw(st.sampled_from(_nemsis_samples()))
    cut = data.draw(st.integers(0, len(sample)))
    junk = data.draw(st.binary(max_size=20))
    document = data.draw(
        st.sampled_from(
            [
                sample[:cut] + junk + sample[cut:],  # bytes inserted anywhere
                sample[:cut] + sample[cut + len(junk) :],  # bytes cut out
                sample[:cut],  # truncated
                junk,
            ]
        )
    )
    try:
        parse_nemsis(document)
    except NemsisError as exc:
        assert str(exc)


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.hex()))
def test_a_cursor_decodes_or_is_refused(value: str) -> None:
    with contextlib.suppress(ValueError):
        Cursor.decode(value)


@FUZZ
@given(st.text(max_size=40) | st.sampled_from(["0001-01-01", "9999-12-31T23:59:59-01:00"]))
def test_a_period_bound_parses_or_is_a_422(value: str) -> None:
    try:
        period_bound(value, "from")
    except HTTPException as exc:
        assert exc.status_code == 422


AGENCY_CONF = st.dictionaries(
    st.sampled_from(["profile", "zone", "reasons", "arrest_nature_patterns"]), JSON, max_size=3
)


@FUZZ
@given(
    st.dictionaries(st.text(max_size=4), AGENCY_CONF, max_size=2).map(json.dumps)
    | JSON.map(json.dumps)
    | st.text(max_size=40)
)
def test_the_agencies_setting_loads_or_is_refused(value: str) -> None:
    with contextlib.suppress(ValidationError):
        Settings(agencies=value)
