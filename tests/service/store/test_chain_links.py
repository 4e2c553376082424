"""The chain's link function and checker (service/store/chain.py), without a database: links
do not depend on how a database hands the columns back, and every single removal, alteration
or swap in a chain is caught at the right event."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contract.event import as_dict
from service.store.chain import CHAINED, ChainCheck, Head, Verdict, canonical, extend, link
from service.store.event_rows import content_of, to_event

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def row(seq: int, agency: str, data: Any, at: datetime) -> dict[str, Any]:
    return {
        "agency": agency,
        "event_id": f"e{seq}",
        "call_id": "C1",
        "kind": "call.received",
        "at": at,
        "at_offset_s": -18000,
        "source": "cad",
        "actor": None,
        "data": {"value": data},
        "received_at": at + timedelta(seconds=1),
        "seq": seq,
    }


def check(agency: str, rows: list[dict[str, Any]], head: Head | None) -> Verdict:
    checker = ChainCheck(agency, head, None)
    for r in rows:
        if not checker.feed(r):
            break
    return checker.finish()


@given(JSON, INSTANTS, st.integers(-12 * 60, 14 * 60))
def test_a_link_is_the_same_whichever_way_the_row_is_read_back(
    data: Any, instant: datetime, offset_minutes: int
) -> None:
    """PostgreSQL hands back UTC times and parsed JSON, SQLite what it parsed from text."""
    written = row(7, "A", data, instant.astimezone(timezone(timedelta(minutes=offset_minutes))))
    extend({}, [written], b"key")
    read_back = {
        **written,
        "at": instant,
        "data": json.loads(json.dumps(written["data"])),
        "received_at": written["received_at"].astimezone(UTC),
    }
    assert link("previous", written, b"key") == link("previous", read_back, b"key")


@given(st.lists(st.sampled_from("AB"), min_size=2, max_size=12), st.data())
def test_every_single_removal_alteration_or_swap_is_caught_where_it_happens(
    agencies: list[str], draw: st.DataObject
) -> None:
    instant = datetime(2026, 1, 15, 14, tzinfo=UTC)
    rows = [row(i + 1, a, i, instant) for i, a in enumerate(agencies)]
    heads = extend({}, rows, None)
    agency = draw.draw(st.sampled_from(sorted(heads)))
    chain = [r for r in rows if r["agency"] == agency]
    assert check(agency, chain, heads[agency]).ok
    i = draw.draw(st.integers(0, len(chain) - 1))
    kind = draw.draw(st.sampled_from(["remove", "alter", "swap"]))
    if kind == "remove":
        broken = check(agency, chain[:i] + chain[i + 1 :], heads[agency]).broken
        assert broken is not None
        if i == len(chain) - 1:
            assert (broken.problem, broken.seq) == (
                "missing at the end",
                chain[i - 1]["seq"] if i else None,
            )
        else:
            assert (broken.problem, broken.seq) == ("missing before it", chain[i + 1]["seq"])
    elif kind == "alter":
        altered = [*chain[:i], {**chain[i], "kind": "call.ended"}, *chain[i + 1 :]]
        broken = check(agency, altered, heads[agency]).broken
        assert broken is not None and (broken.problem, broken.seq) == ("altered", chain[i]["seq"])
    elif len(chain) > 1:
        j = (i + 1) % len(chain)
        first, second = sorted((i, j))
        swapped = list(chain)
        swapped[first], swapped[second] = (
            {**chain[second], "seq": chain[first]["seq"]},
            {**chain[first], "seq": chain[second]["seq"]},
        )
        broken = check(agency, swapped, heads[agency]).broken
        assert broken is not None and broken.seq == chain[first]["seq"]


def test_a_head_ahead_of_the_log_or_absent_is_named() -> None:
    instant = datetime(2026, 1, 15, 14, tzinfo=UTC)
    rows = [row(i, "A", i, instant) for i in (1, 2)]
    head = extend({}, rows, None)["A"]
    broken = check("A", rows, Head(head.last_seq, head.last_hash, head.count + 1)).broken
    assert broken is not None and broken.problem == "head altered"
    broken = check("A", rows, None).broken
    assert broken is not None and (broken.problem, broken.seq) == ("no head", 1)
    broken = check("A", [], head).broken
    assert broken is not None and (broken.problem, broken.seq) == ("missing at the end", None)
    assert check("A", [], None).ok


@given(JSON, INSTANTS, st.integers(-12 * 60, 14 * 60), st.none() | st.text())
def test_the_shared_encoding_is_byte_for_byte_the_one_stored_chains_were_linked_with(
    data: Any, instant: datetime, offset_minutes: int, actor: str | None
) -> None:
    """The content hash and the link compose their JSON around the once-encoded `data`; the
    bytes are those of the whole-object encoding every stored chain and hash was made with."""
    at = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    written = {**row(3, "A", data, at), "actor": actor, "chain_prev_seq": 2}
    content = content_of(to_event(_Stored(written)))
    whole = {name: written[name] for name in CHAINED}
    whole["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    whole["received_at"] = written["received_at"].astimezone(UTC).isoformat(timespec="microseconds")
    expected = json.dumps(whole, sort_keys=True, separators=(",", ":")).encode()
    assert canonical(written) == expected
    assert canonical(written, content.data) == expected
    assert link("prev", written, b"k", content.data) == link("prev", written, b"k")
    event_shape = as_dict(to_event(_Stored(written)))
    event_shape.pop("seq")
    blob = json.dumps(event_shape, sort_keys=True, separators=(",", ":")).encode()
    assert content.digest == hashlib.sha256(blob).hexdigest()


class _Stored:
    """A stored row's attributes, as `to_event` reads them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
