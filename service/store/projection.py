"""The per-call projection (`calls`): each call's summary, rewritten in the transaction that
stores its events, so measures never see an event without its call's summary.

The states of recently written calls are kept (`CallStates`), each with the last sequence it
reflects: a call whose row still carries that sequence is stepped from its kept state instead of
being read back from the log and folded again under the write lock. A row with another sequence
(another replica wrote the call since) is read and folded as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from contract.event import Event
from service.qi.summary import summarize
from service.store.event_reads import CALLS_PER_READ, histories
from service.store.tables import SUMMARY_COLUMNS, CallRow
from service.triage.call_state import CallState
from service.triage.profiles import AgencyConfig
from service.triage.state import fold, step

CALLS = CallRow.metadata.tables[CallRow.__tablename__]
INSERT_CALLS = insert(CALLS)
# Rewrite a projection row by key (executemany; the SET clause is the parameters' columns).
UPDATE_CALLS = update(CALLS).where(
    CALLS.c.agency == bindparam("key_agency"), CALLS.c.call_id == bindparam("key_call_id")
)
# How many calls' states are kept by default (live calls are a few thousand at most).
KEPT_CALLS = 20_000

CallKey = tuple[str, str]


class CallStates:
    """A bounded, least-recently-written cache of call states, each with the `last_seq` of the
    call's projection row it matches. Only committed states go in (`keep`, after the commit):
    a rolled-back transaction leaves nothing claiming sequences that never existed."""

    def __init__(self, limit: int = KEPT_CALLS) -> None:
        self._limit = limit
        self._states: OrderedDict[CallKey, tuple[int, CallState]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: CallKey, last_seq: int) -> CallState | None:
        """The call's state if it reflects exactly the log up to `last_seq`."""
        held = self._states.get(key)
        if held is None or held[0] != last_seq:
            return None
        return held[1]

    def keep(self, states: Mapping[CallKey, tuple[int, CallState]]) -> None:
        """Remember committed states. An ended call leaves (it rarely hears more, and then is
        read from the log), so the cache holds mostly the states the live view holds too."""
        for key, (last_seq, state) in states.items():
            self._states.pop(key, None)
            if state.ended_at is None and self._limit > 0:
                self._states[key] = (last_seq, state)
        while len(self._states) > self._limit:
            self._states.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Projected:
    """What a transaction's projection produced: the calls it created, each new event's call
    state right after that event (`steps`, aligned with the events), and each touched call's
    final state with its last sequence (`latest`, for `CallStates.keep` once committed)."""

    created: set[CallKey]
    steps: list[CallState]
    latest: dict[CallKey, tuple[int, CallState]]


def _stored_last_seqs(session: Session, agency: str, ids: list[str]) -> dict[str, int]:
    """The `last_seq` of each of these calls that has a projection row."""
    stored: dict[str, int] = {}
    for i in range(0, len(ids), CALLS_PER_READ):
        rows = session.execute(
            select(CALLS.c.call_id, CALLS.c.last_seq).where(
                CALLS.c.agency == agency, CALLS.c.call_id.in_(ids[i : i + CALLS_PER_READ])
            )
        )
        stored.update((call_id, int(last_seq)) for call_id, last_seq in rows)
    return stored


def project(
    session: Session,
    new: list[Event],
    now: datetime,
    config_for: Callable[[str], AgencyConfig],
    kept: CallStates,
) -> Projected:
    """Rewrite the projection rows of the calls `new` (this transaction's events, in sequence
    order) touch. A call's row is written in the transaction of its first event, so a call
    without one has no events but `new`; a call with one starts from its kept state when that
    reflects the row's `last_seq`, else from its history read back from the log. Each new
    event is then stepped in sequence order, as the live views apply them."""
    created: set[CallKey] = set()
    steps: list[CallState | None] = [None] * len(new)
    latest: dict[CallKey, tuple[int, CallState]] = {}
    by_call: dict[str, dict[str, list[int]]] = {}
    for i, e in enumerate(new):
        by_call.setdefault(e.agency, {}).setdefault(e.call_id, []).append(i)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for agency, calls in by_call.items():
        stored = _stored_last_seqs(session, agency, list(calls))
        config = config_for(agency)
        states: dict[str, CallState] = {}
        unknown: list[str] = []
        for call_id, last_seq in stored.items():
            cached = kept.get((agency, call_id), last_seq)
            if cached is None:
                unknown.append(call_id)
            else:
                states[call_id] = cached
        if unknown:
            # The history read includes this transaction's rows; the state before them is
            # what the row's `last_seq` covers.
            history = histories(session, agency, unknown)
            for call_id in unknown:
                before = [e for e in history[call_id] if e.arrival <= stored[call_id]]
                states[call_id] = fold(agency, call_id, before, config)
        for call_id, indices in calls.items():
            state = states.get(call_id)
            for i in indices:
                e = new[i]
                state = (
                    fold(agency, call_id, [e], config) if state is None else step(state, e, config)
                )
                steps[i] = state
            assert state is not None
            last_seq = new[indices[-1]].arrival
            latest[(agency, call_id)] = (last_seq, state)
            summary = summarize(state, config)
            row: dict[str, Any] = {c: getattr(summary, c) for c in SUMMARY_COLUMNS}
            row["ended"] = state.ended_at is not None
            row["last_seq"] = last_seq
            row["updated_at"] = now
            if call_id in stored:
                updates.append({"key_agency": agency, "key_call_id": call_id, **row})
            else:
                inserts.append({"agency": agency, "call_id": call_id, **row})
                created.add((agency, call_id))
    if inserts:
        session.execute(INSERT_CALLS, inserts)
    if updates:
        session.execute(UPDATE_CALLS, updates)
    return Projected(created, [s for s in steps if s is not None], latest)
