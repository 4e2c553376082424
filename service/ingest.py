"""Ingest: raw body in, stored events or a precise refusal out.

Order of checks: who is asking, is it well-formed (`Invalid`, naming the field), may they post
it (`NotAllowed`), does it collide with what is stored (`Conflicting`). A batch is all-or-nothing.
Every refusal is kept in the reject store with the raw body, by the route that calls this.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from contract.event import Event
from contract.kinds import CONSOLE_KINDS, Kind
from contract.policy import may_post
from contract.wire import CanonicalEvent, first_error
from service.refused import Conflicting, Invalid, NotAllowed
from service.store.events import Appended, EventConflict, EventStore
from service.store.tokens import Principal


def parse_events(body: bytes, max_batch: int) -> tuple[list[Event], bool]:
    """Validate a body of one event or an array of them; (events, was_single)."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"body is not valid JSON: {exc}", "body") from None
    except RecursionError:
        raise Invalid("body is not valid JSON: nested too deeply", "body") from None
    single = isinstance(payload, dict)
    if single:
        items = [payload]
    elif isinstance(payload, list):
        items = payload
        if not items:
            raise Invalid("body is an empty array: send at least one event", "body")
        if len(items) > max_batch:
            raise Invalid(f"batch of {len(items)} events; at most {max_batch}", "body")
    else:
        raise Invalid("body must be one event object or an array of events", "body")
    events: list[Event] = []
    for i, item in enumerate(items):
        index = None if single else i
        if not isinstance(item, dict):
            raise Invalid(f"event {i} is not a JSON object", f"[{i}]")
        try:
            events.append(CanonicalEvent.model_validate(item).to_event())
        except ValidationError as exc:
            field, message = first_error(exc, index)
            raise Invalid(message, field, _claimed_agency(item)) from None
    return events, single


def authorize(principal: Principal, events: list[Event]) -> None:
    for i, e in enumerate(events):
        if not principal.may_act_for(e.agency):
            raise NotAllowed(f"event {i}: token is not valid for agency {e.agency}", "agency")
        if not may_post(principal.role, e.kind):
            raise NotAllowed(f"event {i}: role {principal.role} may not post {e.kind}", "kind")
        if (
            principal.role == "telecommunicator"
            and principal.names
            and e.kind in CONSOLE_KINDS
            and e.actor is not None
            and e.actor not in principal.names
        ):
            # A console acts as the person signed in to it: an action in a colleague's name
            # would misattribute the record and make the colleague's call (and its review) one's
            # own (DESIGN.md §8's "own calls"). A token issued without a name says nobody, so
            # the console's `actor` is the only name there is.
            raise NotAllowed(
                f"event {i}: a console event's actor is the token holder's own name", "actor"
            )
        if (
            e.kind == Kind.FEEDBACK_ACKNOWLEDGED
            and principal.role != "adapter"
            and principal.names
            and e.actor not in principal.names
        ):
            # Only the reader acknowledges reading: never in a colleague's name, nor in none.
            # (An adapter relays a console's acknowledgement in the reader's name; a token
            # issued without a name, like its console events, has only the `actor` it sends.)
            raise NotAllowed(
                f"event {i}: an acknowledgement's actor is the token holder's own name", "actor"
            )


async def store(store: EventStore, events: list[Event], single: bool) -> dict[str, Any]:
    try:
        appended = await store.append(events)
    except EventConflict as exc:
        where = "" if single else f"event {exc.index}: "
        raise Conflicting(f"{where}{exc}", "event_id", events[exc.index].agency) from None
    return acknowledgement(appended, single)


def acknowledgement(appended: Appended, single: bool) -> dict[str, Any]:
    results = [
        {"event_id": o.event_id, "status": o.status, "seq": o.seq} for o in appended.outcomes
    ]
    body: dict[str, Any] = {
        "results": results,
        "accepted": sum(o.status == "accepted" for o in appended.outcomes),
        "duplicates": sum(o.status == "duplicate" for o in appended.outcomes),
    }
    if single:
        body.update(results[0])
    return body


def _claimed_agency(item: dict[str, Any]) -> str | None:
    agency = item.get("agency")
    return agency if isinstance(agency, str) and 0 < len(agency) <= 32 else None


def claimed_agency(body: bytes) -> str | None:
    """Best effort, for filing a refusal whose sender we could not authenticate."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    first = payload[0] if isinstance(payload, list) and payload else payload
    return _claimed_agency(first) if isinstance(first, dict) else None
