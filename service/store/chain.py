"""The per-agency hash chain over the event log (tamper evidence).

Each stored event carries `chain_hash`, its link: a SHA-256 (an HMAC-SHA256 when the
`TCPR_AUDIT_KEY` setting holds a key) over the previous link of its agency (or the agency's
genesis value) and a canonical serialization of every stored column that matters, its own `seq`
and the `seq` of the event it follows (`chain_prev_seq`) included. `chain_heads` keeps each
agency's last link and count, so a removed tail shows as surely as a removed middle.

Without a key the chain proves only that the log is consistent with itself: someone who can write
to the database can recompute every link. Record the head each agency's check prints somewhere
else (or set a key kept out of the database) to make rewriting the history detectable.

The serialization is the same on SQLite and PostgreSQL: times as UTC ISO 8601 with
microseconds, JSON with sorted keys and compact separators. Standard library only: the write
path, `tcpr verify-audit` and migration 0003's backfill all use it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

# The columns a link covers; `content_hash` is derived from them and deliberately not trusted.
CHAINED = (
    "agency",
    "event_id",
    "call_id",
    "kind",
    "at",
    "at_offset_s",
    "source",
    "actor",
    "data",
    "received_at",
    "seq",
    "chain_prev_seq",
)
_CHAINED_SORTED = sorted(CHAINED)
# The sorted-key object of the chained columns, each member's value to fill in.
_CANONICAL = "{" + ",".join(f'"{name}":%s' for name in _CHAINED_SORTED) + "}"
_VERSION = b"tcpr-assist event chain v1"
# A row of the events table: a Core row's mapping, or the values about to be inserted.
Row = Mapping[Any, Any]


def _instant(value: datetime) -> str:
    if value.utcoffset() is None:
        raise ValueError("a chained time must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# JSON with sorted keys and compact separators (what `json.dumps(..., sort_keys=True,
# separators=(",", ":"))` gives), the encoder made once rather than on every call.
encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
# A string as that encoding writes it (ASCII-escaped), straight to the C routine.
encode_str: Callable[[str], str] = encode_basestring_ascii


def scalar(value: Any) -> str:
    """A column value as `encode` would write it, without the encoder's overhead for the
    common cases (the link is computed for every stored event)."""
    if value.__class__ is str:
        return encode_str(value)
    if value is None:
        return "null"
    if value.__class__ is int:
        return int.__repr__(value)
    return encode(value)


def canonical(row: Row, data: str | None = None) -> bytes:
    """The bytes a link covers: the chained columns of a stored row (or of the values about
    to be inserted), identical whichever database the row was read back from: the sorted-key
    compact JSON object of those columns, composed member by member so that `data`, the row's
    `data` already encoded (`encode`) when the caller has it, is not encoded again."""
    values = []
    for name in _CHAINED_SORTED:
        if name == "data":
            values.append(data if data is not None else encode(row["data"]))
        elif name == "at" or name == "received_at":
            values.append(encode_str(_instant(row[name])))
        else:
            values.append(scalar(row[name]))
    return (_CANONICAL % tuple(values)).encode()


def _digest(key: bytes | None, message: bytes) -> str:
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def genesis(agency: str, key: bytes | None) -> str:
    """The link before an agency's first event: per agency, so chains cannot be spliced."""
    return _digest(key, _VERSION + b" genesis\n" + agency.encode())


def link(previous: str, row: Row, key: bytes | None, data: str | None = None) -> str:
    """The link of `row`, which follows the link `previous` in its agency's chain (`data`:
    the row's `data` already encoded, if at hand)."""
    return _digest(key, _VERSION + b"\n" + previous.encode() + b"\n" + canonical(row, data))


@dataclass(frozen=True, slots=True)
class Head:
    """An agency's chain head as `chain_heads` records it."""

    last_seq: int
    last_hash: str
    count: int


@dataclass(frozen=True, slots=True)
class Break:
    """The first place an agency's chain does not hold, and the event it concerns (if any)."""

    problem: str  # altered | missing before it | missing at the end | no head | no link | ...
    detail: str
    seq: int | None = None
    event_id: str | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    agency: str
    count: int  # events checked (up to the break, if any)
    head: str  # the last link that held
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def extend(
    heads: dict[str, Head],
    rows: list[dict[str, Any]],
    key: bytes | None,
    data: Sequence[str] | None = None,
) -> dict[str, Head]:
    """Link `rows` (new rows of the events table, in `seq` order, each with its `seq`) onto
    their agencies' chains: sets each row's `chain_prev_seq` and `chain_hash`; returns the new
    heads of the agencies they touch (an agency not in `heads` starts at its genesis). `data`
    holds each row's `data` already encoded (`encode`), if at hand."""
    moved: dict[str, Head] = {}
    for i, row in enumerate(rows):
        agency = row["agency"]
        head = moved.get(agency) or heads.get(agency) or Head(0, genesis(agency, key), 0)
        row["chain_prev_seq"] = head.last_seq
        row["chain_hash"] = link(head.last_hash, row, key, data[i] if data is not None else None)
        moved[agency] = Head(row["seq"], row["chain_hash"], head.count + 1)
    return moved


class ChainCheck:
    """Re-computes one agency's chain from its rows, fed in `seq` order; stops at the first
    break. Pure: the caller streams the rows (see chain_store.verify)."""

    def __init__(self, agency: str, head: Head | None, key: bytes | None) -> None:
        self.agency = agency
        self._head = head
        self._key = key
        self._previous = genesis(agency, key)
        self._previous_seq = 0
        self._last: Row | None = None
        self.count = 0
        self.broken: Break | None = None

    def feed(self, row: Row) -> bool:
        """Check the next row; False once the chain is broken (feed no more)."""
        if self.broken is None:
            self.broken = self._check(row)
        if self.broken is None:
            self._previous = row["chain_hash"]
            self._previous_seq = row["seq"]
            self._last = row
            self.count += 1
        return self.broken is None

    def _check(self, row: Row) -> Break | None:
        def at(problem: str, detail: str) -> Break:
            return Break(problem, detail, row["seq"], row["event_id"], row["call_id"])

        if self._head is None:
            return at("no head", "the agency has events but no chain head in chain_heads")
        if row["seq"] > self._head.last_seq:
            return at(
                "not in the chain",
                f"it comes after the chain head (seq {self._head.last_seq}): added behind "
                "the service's back, or the head was rolled back",
            )
        if row["chain_hash"] is None:
            return at("no link", "it was stored without a link (not written by the service)")
        if row["chain_prev_seq"] != self._previous_seq:
            follows = row["chain_prev_seq"]
            before = f"seq {self._previous_seq}" if self._previous_seq else "none"
            return at(
                "missing before it",
                f"its link follows event seq {follows}, but the event before it in the log is "
                f"{before}: an event was removed or the events were reordered",
            )
        if link(self._previous, row, self._key) != row["chain_hash"]:
            return at(
                "altered",
                "its content no longer matches its link"
                + (
                    " (or the audit key differs from the one it was written with)"
                    if self.count == 0
                    else ""
                ),
            )
        return None

    def finish(self) -> Verdict:
        """The verdict once every row was fed: also checks the log reaches the head."""
        if self.broken is None and self._head is not None:
            self.broken = self._check_end(self._head)
        return Verdict(self.agency, self.count, self._previous, self.broken)

    def _check_end(self, head: Head) -> Break | None:
        last = self._last
        where = (
            {"seq": last["seq"], "event_id": last["event_id"], "call_id": last["call_id"]}
            if last is not None
            else {}
        )
        if self._previous_seq < head.last_seq:
            ends = f"ends at seq {self._previous_seq}" if last is not None else "has no events"
            return Break(
                "missing at the end",
                f"chain_heads records {head.count} events up to seq {head.last_seq}; the log "
                f"{ends} ({self.count} events): events after the last one present were removed",
                **where,
            )
        if self._previous != head.last_hash:
            return Break("head altered", "chain_heads holds a last link the log does not", **where)
        if self.count != head.count:
            return Break(
                "head altered",
                f"chain_heads counts {head.count} events, the log holds {self.count}",
                **where,
            )
        return None
