"""Hypothesis on the EIDO parser: whatever a CAD sends, the answer is canonical events or a
ParseError naming what is wrong, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from eido_docs import snapshots
from hypothesis import given, settings
from hypothesis import strategies as st

from cad_adapters import eido
from cad_adapters.core import ParseError, canonical

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
# Values a CAD gets subtly wrong: times without offset, impossible dates, odd types, long text.
NEAR_MISSES = st.sampled_from(
    [
        "2026-03-02T09:00:00",
        "2026-02-30T09:00:00-06:00",
        "2026-03-02 09:00:00-06:00",
        "",
        "x" * 300,
        None,
        0,
        [],
        {},
        {"$ref": None},
        [{"$ref": 5}],
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value could be swapped."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out += _paths(inner, (*prefix, i))
    return out


def _outcome(document: object) -> list[dict[str, Any]] | ParseError:
    try:
        events = eido.parse(document, "EMS1")
    except ParseError as exc:
        assert exc.reason
        return exc
    for event in events:
        canonical(event)
    return events


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_any_json_gives_events_or_a_parse_error(document: object) -> None:
    _outcome(document)
    _outcome(json.dumps(document).encode())


@given(st.data())
@settings(max_examples=400, deadline=None)
def test_a_real_snapshot_with_one_value_swapped(data: st.DataObject) -> None:
    document = copy.deepcopy(data.draw(st.sampled_from(snapshots())))
    paths = _paths(document)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(NEAR_MISSES | JSON)
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    outcome = _outcome(document)
    if isinstance(outcome, ParseError) and outcome.field:
        # The named field is a path into the document, e.g. callComponent[1].answerDate.
        assert outcome.field.split("[")[0].split(".")[0] in {*document, "$id", "body"}


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_bytes_give_events_or_a_parse_error(raw: bytes) -> None:
    _outcome(raw)
