"""NENA-STA-021 EIDO JSON in, canonical events out (DESIGN.md §2 and §8). Pure: no I/O, no clock.

An EIDO is a snapshot of an incident, sent again each time it changes, so every fact it implies
gets an id derived from what identifies the fact (call component, resource, nature code), never
from a time: a re-sent or updated snapshot repeats the same ids, and the store keeps the first
report of each (`POST /api/v1/eido` stores with `keep_first`).

| EIDO element | canonical event |
| --- | --- |
| `callComponent[].callStartTimestamp` | `call.received` (`psap`: updatedByAgencyReference, else queueIdentifier) |
| `callComponent[].answerDate` | `call.answered` (actor: the leg's first agentReference) |
| a later leg whose agency differs from the leg before it | `call.transferred` at its callStartTimestamp (`to`) |
| every leg `callStateRegistryText` = `callEnd` | `call.ended` at the last leg's lastUpdateTimeStamp |
| `incidentComponent` incident type | `call.nature` at its lastUpdateTimeStamp (`code`, `text`) |
| `emergencyResourceComponent[].primaryUnitStatusRegistryText` | `unit.dispatched` / `unit.on_scene` at its lastUpdateTimeStamp |

Known limit, deliberate: an event id names the fact (the nature code, the unit and its status),
not when it was reported, so each fact is stored once per call, with its first report. A nature
code that changes A -> B -> A stays B: the return to A restates the first A and is a duplicate.
A unit dispatched, cleared and dispatched again to the same incident is not a new event. This is the price of
reading snapshots, which restate every fact with a new timestamp each time: ids from times would
store each restatement as a new event. A CAD that must record re-dispatches sends events to
`POST /api/v1/events` with its own ids instead.

A document must be what JSON text (RFC 8259) and UTF-8 can carry, since the events and the
document itself are sent on and stored as such: NaN or Infinity anywhere, and strings or keys
with lone surrogates (which a JSON escape of a surrogate code point gives), are refused naming
the field.
"""  # noqa: E501

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cad_adapters.core import ParseError, Record, canonical, derive_id
from contract.storable import json_type, lone_surrogate, unstorable
from contract.times import parse_rfc3339

ID_PREFIX: Final = "eido"
MAX_CALL_ID: Final = 128
MAX_ACTOR: Final = 128
MAX_UNIT: Final = 64
MAX_CODE: Final = 64
# primaryUnitStatusRegistryText, lower-cased with everything but letters and digits removed.
UNIT_STATUS: Final = {
    "dispatched": "unit.dispatched",
    "assigned": "unit.dispatched",
    "onscene": "unit.on_scene",
    "arrived": "unit.on_scene",
    "atscene": "unit.on_scene",
    "atpatient": "unit.on_scene",
}
CALL_END: Final = "callEnd"


def load(document: bytes) -> dict[str, Any]:
    """The EIDO document of a JSON body; a ParseError when it is not a JSON object."""
    try:
        payload = json.loads(document, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ParseError("not valid JSON: nested too deeply") from None
    return _document(payload)


def call_id(document: dict[str, Any]) -> str:
    """The call the EIDO is about: incidentComponent.internalIncidentId, else the `$id`."""
    incident, path = _incident(document)
    if incident is not None and incident.get("internalIncidentId") is not None:
        return _text(incident["internalIncidentId"], f"{path}.internalIncidentId", MAX_CALL_ID)
    if document.get("$id") is None:
        raise ParseError(
            "missing: the document has neither $id nor incidentComponent.internalIncidentId",
            "$id",
        )
    return _text(document["$id"], "$id", MAX_CALL_ID)


def parse(document: object | bytes, agency: str) -> list[Record]:
    """The canonical events one EIDO implies for `agency`, in time order."""
    doc = load(bytes(document)) if isinstance(document, bytes | bytearray) else _document(document)
    return events_of(doc, agency)


def events_of(doc: dict[str, Any], agency: str) -> list[Record]:
    """`parse` for a document `load` has already read and checked (not checked again)."""
    call = call_id(doc)
    facts = [
        *_call_facts(doc),
        *_nature_facts(doc),
        *_unit_facts(doc),
    ]
    facts.sort(key=lambda f: f.at)  # stable: document order among equal times
    return [f.event(agency, call) for f in facts]


@dataclass(frozen=True, slots=True)
class _Fact:
    kind: str
    subject: str
    at: datetime
    actor: str | None = None
    data: dict[str, str] | None = None

    def event(self, agency: str, call: str) -> Record:
        record: Record = {
            "event_id": derive_id(ID_PREFIX, call, self.kind, self.subject),
            "call_id": call,
            "agency": agency,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "source": "cad",
            "data": dict(self.data or {}),
        }
        if self.actor is not None:
            record["actor"] = self.actor
        return canonical(record)


@dataclass(frozen=True, slots=True)
class _Leg:
    path: str
    id: str
    started: datetime
    agency: str | None


def _call_facts(doc: dict[str, Any]) -> list[_Fact]:
    agents = _agent_agencies(doc)
    facts: list[_Fact] = []
    legs: list[_Leg] = []
    answers: list[tuple[datetime, _Fact]] = []  # each leg's answer, by the leg's start
    ended: list[tuple[datetime, str]] = []
    for path, leg in _components(doc, "callComponent"):
        leg_id = _text(_required(leg, "$id", path), f"{path}.$id", None)
        started = _time(_required(leg, "callStartTimestamp", path), f"{path}.callStartTimestamp")
        owner = _ref(leg.get("updatedByAgencyReference"), f"{path}.updatedByAgencyReference")
        agent = _first_ref(leg.get("agentReference"), f"{path}.agentReference")
        psap = owner or _optional_text(leg, "queueIdentifier", path)
        facts.append(_Fact("call.received", leg_id, started, data={"psap": psap} if psap else None))
        if leg.get("answerDate") is not None:
            answered = _time(leg["answerDate"], f"{path}.answerDate")
            if agent is not None and len(agent) > MAX_ACTOR:
                raise ParseError(f"over {MAX_ACTOR} characters", f"{path}.agentReference[0].$ref")
            answers.append((started, _Fact("call.answered", leg_id, answered, actor=agent)))
        state = _optional_text(leg, "callStateRegistryText", path)
        if state == CALL_END:
            last = _time(_required(leg, "lastUpdateTimeStamp", path), f"{path}.lastUpdateTimeStamp")
            ended.append((last, leg_id))
        legs.append(_Leg(path, leg_id, started, agents.get(agent or "") or owner))
    transfers = _transfers(legs)
    facts.extend(transfers)
    # `call.answered` is the answer of the agency that dispatches EMS (DESIGN.md §2), which the
    # last transfer reached: a first PSAP's answer before it would hide the transfer's delay and
    # credit the call to another agency's call-taker.
    reached = max((t.at for t in transfers), default=None)
    facts.extend(fact for started, fact in answers if reached is None or started >= reached)
    # Only when every leg is released: the first PSAP hanging up after a transfer does not end
    # the call the receiving agency is still on.
    if legs and len(ended) == len(legs):
        last, leg_id = max(ended, key=lambda e: e[0])
        facts.append(_Fact("call.ended", leg_id, last))
    return facts


def _transfers(legs: list[_Leg]) -> list[_Fact]:
    """A leg whose agency differs from the leg before it (by start time) is the call arriving at
    another agency."""
    facts: list[_Fact] = []
    previous: str | None = None
    for leg in sorted(legs, key=lambda g: g.started):
        if leg.agency is None:
            continue
        if previous is not None and leg.agency != previous:
            facts.append(_Fact("call.transferred", leg.id, leg.started, data={"to": leg.agency}))
        previous = leg.agency
    return facts


def _agent_agencies(doc: dict[str, Any]) -> dict[str, str]:
    """Each agent's agency (agentComponent[].agencyReference), by the agent's $id."""
    agencies: dict[str, str] = {}
    for path, agent in _components(doc, "agentComponent"):
        agent_id = agent.get("$id")
        agency = _ref(agent.get("agencyReference"), f"{path}.agencyReference")
        if isinstance(agent_id, str) and agency is not None:
            agencies.setdefault(agent_id, agency)
    return agencies


def _nature_facts(doc: dict[str, Any]) -> list[_Fact]:
    incident, path = _incident(doc)
    if incident is None:
        return []
    field = "incidentTypeInternalCode"
    code = _optional_text(incident, field, path)
    if code is None:
        field = "incidentTypeCommonRegistryText"
        code = _optional_text(incident, field, path)
    if code is None:
        return []
    if len(code) > MAX_CODE:
        raise ParseError(f"over {MAX_CODE} characters", f"{path}.{field}")
    data = {"code": code}
    text = _optional_text(incident, "incidentTypeInternalText", path)
    if text is not None:
        data["text"] = text
    at = _time(_required(incident, "lastUpdateTimeStamp", path), f"{path}.lastUpdateTimeStamp")
    return [_Fact("call.nature", code, at, data=data)]


def _unit_facts(doc: dict[str, Any]) -> list[_Fact]:
    facts: list[_Fact] = []
    for path, resource in _components(doc, "emergencyResourceComponent"):
        status = _optional_text(resource, "primaryUnitStatusRegistryText", path)
        kind = UNIT_STATUS.get(re.sub(r"[^a-z0-9]", "", (status or "").lower()))
        if kind is None:
            continue
        resource_id = _text(_required(resource, "$id", path), f"{path}.$id", None)
        name = _optional_text(resource, "emergencyResourceName", path)
        unit, field = (name, "emergencyResourceName") if name else (resource_id, "$id")
        if len(unit) > MAX_UNIT:
            raise ParseError(
                f"unit name over {MAX_UNIT} characters (send a shorter emergencyResourceName)",
                f"{path}.{field}",
            )
        at = _time(_required(resource, "lastUpdateTimeStamp", path), f"{path}.lastUpdateTimeStamp")
        facts.append(_Fact(kind, resource_id, at, data={"unit": unit}))
    return facts


# -- reading the document -------------------------------------------------------------------


def _document(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ParseError(f"an EIDO is a JSON object, not {json_type(payload)}")
    _sendable(payload)
    return payload


def _no_constant(name: str) -> object:
    raise ParseError(f"not valid JSON: {name} is not a number in JSON (RFC 8259)")


def _sendable(document: dict[str, Any]) -> None:
    """Refuse, naming the first place in document order, what JSON text and UTF-8 cannot carry:
    the runner spools the document and sends it on, and the service stores what it implies."""
    problem = unstorable(document, max_depth=None)
    if problem is not None:
        where, reason = problem
        raise ParseError(reason, where.removeprefix("."))


def _unicode(value: str, field: str) -> None:
    """Refuse a string UTF-8 cannot encode: a lone surrogate, which a JSON escape can give."""
    problem = lone_surrogate(value)
    if problem is not None:
        raise ParseError(problem, field)


def _incident(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The incident component, which senders give as an object (the schema) or a list of them
    (then the first), and the path to name it by."""
    value = doc.get("incidentComponent")
    path = "incidentComponent"
    if isinstance(value, list):
        if not value:
            return None, path
        value, path = value[0], "incidentComponent[0]"
    if value is None:
        return None, path
    if not isinstance(value, dict):
        raise ParseError(f"must be an object, not {json_type(value)}", path)
    return value, path


def _components(doc: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"must be an array, not {json_type(value)}", name)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ParseError(f"must be an object, not {json_type(item)}", f"{name}[{i}]")
        out.append((f"{name}[{i}]", item))
    return out


def _required(component: dict[str, Any], key: str, path: str) -> object:
    if component.get(key) is None:
        raise ParseError("missing", f"{path}.{key}")
    return component[key]


def _text(value: object, field: str, limit: int | None) -> str:
    if not isinstance(value, str):
        raise ParseError(f"must be a string, not {json_type(value)}", field)
    _unicode(value, field)
    if not value.strip():
        raise ParseError("empty", field)
    if limit is not None and len(value) > limit:
        raise ParseError(f"over {limit} characters", field)
    return value


def _optional_text(component: dict[str, Any], key: str, path: str) -> str | None:
    value = component.get(key)
    if value is None or value == "":
        return None
    return _text(value, f"{path}.{key}", None)


def _ref(value: object, field: str) -> str | None:
    """The `$ref` of a ReferenceType, or None when there is none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParseError(f"must be a reference object, not {json_type(value)}", field)
    ref = value.get("$ref")
    return None if ref is None else _text(ref, f"{field}.$ref", None)


def _first_ref(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ParseError(f"must be an array of references, not {json_type(value)}", field)
    return _ref(value[0], f"{field}[0]") if value else None


def _time(value: object, field: str) -> datetime:
    """An RFC 3339 timestamp with its own offset kept; none or an impossible date is refused."""
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise ParseError(str(exc), field) from None
