"""Hypothesis on the EIDO parser: whatever a CAD sends, the answer is canonical events or a
ParseError naming what is wrong, never another exception."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
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


# What Python's json gives but JSON text (RFC 8259) and UTF-8 cannot carry.
UNSENDABLE = st.sampled_from([float("nan"), float("inf"), float("-inf")]) | st.builds(
    "{}{}{}".format, st.text(max_size=5), st.characters(categories=["Cs"]), st.text(max_size=5)
)


def _sendable(value: object) -> None:
    """Encodable the way httpx sends JSON: the runner can deliver it, the service store it."""
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _outcome(document: object) -> list[dict[str, Any]] | ParseError:
    try:
        events = eido.parse(document, "EMS1")
    except ParseError as exc:
        assert exc.reason
        str(exc).encode("utf-8")  # a refusal can always be answered and kept
        return exc
    for event in events:
        canonical(event)
        _sendable(event)
    # One call, the agency asked for, in time order (the snapshot's own order means nothing).
    assert len({e["call_id"] for e in events}) <= 1 and all(e["agency"] == "EMS1" for e in events)
    instants = [datetime.fromisoformat(e["at"]).astimezone(UTC) for e in events]
    assert instants == sorted(instants)
    _sendable(eido.load(document) if isinstance(document, bytes) else document)
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


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_a_snapshot_carrying_nan_or_a_lone_surrogate_anywhere_is_refused(
    data: st.DataObject,
) -> None:
    """The runner checks each EIDO with `parse` before spooling it: what parses must be sendable."""
    document = copy.deepcopy(data.draw(st.sampled_from(snapshots())))
    path = data.draw(st.sampled_from(_paths(document)))
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = data.draw(UNSENDABLE)
    outcome = _outcome(document)
    assert isinstance(outcome, ParseError)
    assert outcome.field is not None and outcome.field.startswith(str(path[0]))
    # The same as JSON text (json.dumps writes NaN and the \udxxx escape) is refused too.
    assert isinstance(_outcome(json.dumps(document).encode()), ParseError)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_bytes_give_events_or_a_parse_error(raw: bytes) -> None:
    _outcome(raw)
