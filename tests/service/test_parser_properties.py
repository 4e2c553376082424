"""Hypothesis on the service's parsers of outside input: whatever arrives, the answer is a value
that keeps the parser's promise or the module's own refusal naming what is wrong, never another
exception (KeyError, TypeError, RecursionError, UnicodeDecodeError, lxml internals...).

Derandomized: CI runs the same cases every time; raise the examples locally to explore."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support.paths import SHARED

from contract.event import as_dict
from contract.kinds import KINDS, SOURCES
from contract.wire import CanonicalEvent, first_error
from service.api.periods import period_bound
from service.api.refusals import status_of
from service.ingest import parse_events
from service.qi.nemsis import NemsisError
from service.qi.nemsis import parse as parse_nemsis
from service.refused import Refused
from service.settings import Settings
from service.store.audit_list import Cursor
from service.triage.profiles import PROFILES

FUZZ = settings(
    max_examples=int(os.environ.get("TCPR_FUZZ_PARSER_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NEMSIS_SAMPLES = SHARED / "standards/nemsis/samples"

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        ["2026-01-15T14:00:00-05:00", "2026-01-15T14:00:00", "call.received", "A", "\x00", "\ud800"]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
# What a CAD may put in `at`: no offset, a space for the T, an impossible day, a year that leaves
# the calendar in UTC, more digits than microseconds.
TIMESTAMPS = st.sampled_from(
    [
        "2026-01-15T14:00:00",
        "2026-01-15T14:00:00Z",
        "2026-01-15 14:00:00+01:00",
        "2026-02-30T14:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "2026-01-15T14:00:00.1234567891-05:00",
    ]
)
EVENT_KEYS = ["event_id", "call_id", "agency", "kind", "at", "source", "actor", "data"]
VALID = {
    "event_id": "e1",
    "call_id": "C1",
    "agency": "A",
    "kind": "call.received",
    "at": "2026-01-15T14:00:00-05:00",
}
MISSING = object()


@st.composite
def near_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few fields replaced or removed, or a key it does not know added:
    most of the wire model is reached."""
    out: dict[str, Any] = dict(VALID)
    for key in draw(st.lists(st.sampled_from([*EVENT_KEYS, "unknown"]), max_size=3)):
        if draw(st.booleans()):
            out[key] = draw(st.one_of(JSON, TIMESTAMPS) if key == "at" else JSON)
        else:
            out.pop(key, None)
    return out


def _changed(value: dict[str, Any]) -> set[str]:
    """The top-level keys in which `value` differs from VALID (replaced, removed or added)."""
    return {
        key
        for key in {*VALID, *value}
        if value.get(key, MISSING) is MISSING
        or VALID.get(key, MISSING) is MISSING
        or value[key] != VALID[key]
        or type(value[key]) is not type(VALID[key])
    }


@FUZZ
@given(st.one_of(JSON, near_events()))
@example({**VALID, "at": "2026-01-15T14:00:00"})  # no offset: refused, never a naive time
def test_the_wire_model_validates_or_refuses(value: Any) -> None:
    try:
        event = CanonicalEvent.model_validate(value)
    except ValidationError as exc:
        field, message = first_error(exc, None)
        assert message.startswith(f"field '{field}': ") and len(message) > len(field) + 10
        if not isinstance(value, dict):
            assert field == "body"
            return
        # The field named is one that differs from the valid event, or the data (or the actor)
        # a changed kind asks for.
        changed, top = _changed(value), field.split(".")[0]
        assert top in changed or (top in ("data", "actor") and "kind" in changed), (field, changed)
        return
    assert isinstance(value, dict) and set(value) <= set(CanonicalEvent.model_fields)
    assert (event.event_id, event.call_id, event.agency) == (
        value["event_id"],
        value["call_id"],
        value["agency"],
    )
    assert event.kind in KINDS and event.source in SOURCES
    assert event.at.utcoffset() is not None
    # What was accepted is accepted again as the service writes it out.
    again = as_dict(event.to_event())
    assert CanonicalEvent.model_validate(again).to_event() == event.to_event()


def _bodies() -> st.SearchStrategy[bytes]:
    encoded = st.one_of(JSON, near_events(), st.lists(near_events(), max_size=3)).map(
        lambda v: json.dumps(v).encode()
    )
    return st.one_of(st.binary(max_size=200), encoded, encoded.map(lambda b: b[: len(b) // 2]))


@FUZZ
@given(_bodies())
@example(json.dumps([VALID, {**VALID, "at": "2026-01-15T14:00:00"}]).encode())
def test_an_ingest_body_parses_or_is_refused_with_a_4xx(body: bytes) -> None:
    try:
        events, single = parse_events(body, max_batch=5)
    except Refused as refusal:
        # Every refusal of a body's content is a 422 that names the field at fault.
        assert status_of(refusal) == 422 and refusal.reason and refusal.field
        assert (
            refusal.field == "body"
            or refusal.field.startswith("[")
            or f"field '{refusal.field}'" in refusal.reason
        ), (refusal.field, refusal.reason)
        return
    payload = json.loads(body)
    assert single is isinstance(payload, dict)
    assert len(events) == (1 if single else len(payload)) and 1 <= len(events) <= 5
    items = [payload] if single else payload
    for event, item in zip(events, items, strict=True):
        assert (event.event_id, event.call_id, event.kind) == (
            item["event_id"],
            item["call_id"],
            item["kind"],
        )
        assert event.at.utcoffset() is not None


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
        reports = parse_nemsis(document)
    except NemsisError as exc:
        assert exc.reason and str(exc).endswith(exc.reason)
        assert document != sample, f"the unchanged sample was refused: {exc}"
        return
    assert reports and len({r.pcr_key for r in reports}) == len(reports)
    assert all(r.psap_call_at is None or r.psap_call_at.utcoffset() is not None for r in reports)


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.hex()))
def test_a_cursor_decodes_or_is_refused(value: str) -> None:
    try:
        cursor = Cursor.decode(value)
    except ValueError as exc:
        assert type(exc) is ValueError and str(exc) == "not a cursor this list handed out"
        return
    assert cursor.t0.utcoffset() is not None and isinstance(cursor.call_id, str)
    assert Cursor.decode(cursor.encode()) == cursor


@FUZZ
@given(st.datetimes(timezones=st.timezones()), st.text(max_size=30))
def test_every_cursor_handed_out_decodes(t0: datetime, call_id: str) -> None:
    decoded = Cursor.decode(Cursor(t0, call_id).encode())
    # The same instant and offset: a repeated wall time (fall back) compares unequal across zones.
    assert (decoded.t0.astimezone(UTC), decoded.t0.utcoffset()) == (
        t0.astimezone(UTC),
        t0.utcoffset(),
    )
    assert decoded.call_id == call_id


@FUZZ
@given(st.text(max_size=40) | st.sampled_from(["0001-01-01", "9999-12-31T23:59:59-01:00"]))
def test_a_period_bound_parses_or_is_a_422(value: str) -> None:
    try:
        bound = period_bound(value, "from")
    except HTTPException as exc:
        assert exc.status_code == 422
        assert isinstance(exc.detail, dict) and exc.detail["field"] == "from"
        assert exc.detail["detail"].startswith("from: ")
        return
    if value == "":
        assert bound is None
        return
    assert bound is not None and bound.utcoffset() is not None
    if len(value) == 10:  # a date alone means its midnight UTC
        assert bound.tzinfo is UTC and bound.time() == datetime.min.time()


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
    try:
        settings = Settings(agencies=value)
    except ValidationError as exc:
        assert exc.errors() and all(e["loc"][0] == "agencies" for e in exc.errors())
        return
    # A setting that loads gives every agency it names a usable configuration.
    configs = settings.configured_agencies()
    assert len(configs) == len(settings.agencies) + 1
    for agency in settings.agencies:
        assert settings.agency_config(agency).profile in PROFILES.values()
