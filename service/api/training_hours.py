"""Continuing-education hours (service/training/hours.py) and training needs
(service/training/needs.py): who is compliant, the records behind it, and the centre's CSVs.

- `GET /api/v1/training/hours?agency=A[&person=P][&as_of=T]`: each person's hours, status and
  suggested scenarios, now or as of a time (a date: the end of that day). Supervisors, QI and
  admins read everyone; a telecommunicator reads only their own line (`person` must be their
  token's name or OIDC subject).
- `GET /api/v1/training/summary?agency=A`: the counts only (the board's flag): no one's name.
- `POST /api/v1/training/records`: a supervisor or admin enters classroom, online or other
  training. A session's time is entered by the session itself when it completes.
- `DELETE /api/v1/training/records/{record_id}`: remove a mis-entered record (never a
  session's); the access log keeps who removed what and when, with the record as it was.
- `GET /api/v1/exports/training.csv?agency=A&view=people|records`: per person, or per record.

Reads and writes are written to the access log (service/store/access.py) before they happen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from contract import policy
from service.api.access import Reads, ReadsDep
from service.api.deps import PrincipalDep, Services, ServicesDep, require
from service.api.kept import KeepsRefusals
from service.api.periods import local_bound
from service.api.refusals import AUTHENTICATED, document, refusals, unprocessable
from service.api.reports import csv_response
from service.qi.audit_csv import cell
from service.store.tables import TrainingRecordRow
from service.store.tokens import Principal
from service.store.training_records import TrainingRecord, TrainingRecords
from service.training.hours import (
    MAX_RECORD_MINUTES,
    WINDOW_MONTHS,
    Compliance,
    Training,
    add_months,
    compliance,
)
from service.training.needs import Needs, training_needs
from service.training.report import (
    PEOPLE_COLUMNS,
    RECORD_COLUMNS,
    RULE,
    counts,
    ordered,
    people_row,
    person_json,
    record_row,
)

router = APIRouter(responses=AUTHENTICATED, route_class=KeepsRefusals)
Agency = Annotated[str, Query(min_length=1, max_length=32)]
Person = Annotated[str | None, Query(min_length=1, max_length=128)]
AsOf = Annotated[str | None, Query(max_length=40)]
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]

# What a date field of these routes takes, as their refusals say.
A_TIME = "a date (YYYY-MM-DD) or an RFC 3339 time with offset"


def when(value: str, name: str, zone: ZoneInfo) -> datetime:
    """An RFC 3339 datetime with offset, or a date meaning midnight in the agency's zone (the
    reports' `local_bound`, for a value the request always carries)."""
    found = local_bound(value, name, zone.key, A_TIME)
    if found is None:
        raise unprocessable(name, f"{A_TIME} is required")
    return found


@dataclass(frozen=True, slots=True)
class Standing:
    compliance: Compliance
    needs: Needs
    records: list[TrainingRecord]


async def standings(
    services: Services, agency: str, as_of: datetime, person: str | None
) -> list[Standing]:
    """Everyone's (or one person's) standing at `as_of`, most in need of attention first."""
    zone = ZoneInfo(services.settings.agency_config(agency).zone)
    store = TrainingRecords(services.sessions)
    records = await store.of_agency(agency, person)
    people = {person} if person is not None else await store.people(agency, as_of)
    by_person: dict[str, list[TrainingRecord]] = {p: [] for p in people}
    for record in records:
        if record.person in by_person:
            by_person[record.person].append(record)
    reviewed = await store.reviewed_calls(agency, add_months(as_of, -WINDOW_MONTHS, zone))
    found: dict[str, Standing] = {}
    for name, own in by_person.items():
        rule_records = [Training(r.category, r.minutes, r.taken_at) for r in own]  # type: ignore[arg-type]
        calls = [c for c in reviewed.get(name, []) if c.t0 is None or c.t0 <= as_of]
        found[name] = Standing(
            compliance(name, rule_records, as_of, zone), training_needs(calls), own
        )
    return [found[c.person] for c in ordered(s.compliance for s in found.values())]


def as_of_of(value: str | None, zone: ZoneInfo, now: datetime) -> datetime:
    """Now, an RFC 3339 time, or a date meaning the end of that day in the agency's zone (so
    "as of 31 December" counts what was taken on the 31st)."""
    if not value:
        return now
    t = when(value, "as_of", zone)
    if not 1990 <= t.year <= 9000:
        raise unprocessable("as_of", "lies between the years 1990 and 9000")
    if len(value) == 10:
        t = datetime.combine(t.date() + timedelta(days=1), time(0), zone) - timedelta(
            microseconds=1
        )
    return t


def own_person(principal: Principal, person: str | None) -> str:
    """A telecommunicator reads only their own line: their token's name or OIDC subject."""
    mine = principal.names
    if not mine:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this token has no name: it has no training record"
        )
    if person is None:
        return mine[0]
    if person not in mine:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a telecommunicator may read only their own training"
        )
    return person


def _check_reader(principal: Principal, agency: str, person: str | None) -> str | None:
    """The person the read is narrowed to (a telecommunicator's own), or `person` as given."""
    if principal.role in policy.READ_OWN_TRAINING and principal.role not in policy.READ_TRAINING:
        require(principal, policy.READ_OWN_TRAINING, agency)
        return own_person(principal, person)
    require(principal, policy.READ_TRAINING, agency)
    return person


@router.get("/api/v1/training/hours")
async def get_hours(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Agency,
    person: Person = None,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Each person's hours against the AHA rule, their status and suggested scenarios."""
    person = _check_reader(principal, agency, person)
    zone = ZoneInfo(services.settings.agency_config(agency).zone)
    t = as_of_of(as_of, zone, services.clock())
    await reads.record(agency, "training.read", person)
    found = await standings(services, agency, t, person)
    return {
        "agency": agency,
        "as_of": t.isoformat(),
        "zone": str(zone),
        "rule": RULE,
        "counts": counts([s.compliance for s in found]),
        "people": [person_json(s.compliance, s.needs, s.records) for s in found],
    }


@router.get("/api/v1/training/summary")
async def get_summary(
    principal: PrincipalDep, services: ServicesDep, agency: Agency
) -> dict[str, Any]:
    """How many people are compliant, out of compliance or lapsing soon: no names, so the
    board can show it on the floor."""
    require(principal, policy.READ_TRAINING, agency)
    t = services.clock()
    found = await standings(services, agency, t, None)
    return {"agency": agency, "as_of": t.isoformat(), **counts([s.compliance for s in found])}


@router.get("/api/v1/exports/training.csv", response_class=Response, responses=document("text/csv"))
async def export_training(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Agency,
    view: Literal["people", "records"] = "people",
    as_of: AsOf = None,
) -> Response:
    """The centre's records: one row per person (hours and status at `as_of`) or per record."""
    require(principal, policy.READ_TRAINING, agency)
    zone = ZoneInfo(services.settings.agency_config(agency).zone)
    t = as_of_of(as_of, zone, services.clock())
    await reads.record(agency, "training.export")
    name = f"training-{view}_{agency}_{t.astimezone(zone).date().isoformat()}.csv"
    if view == "records":
        records = await TrainingRecords(services.sessions).of_agency(agency)
        rows = [record_row(r) for r in records if r.taken_at <= t]
        return _csv(RECORD_COLUMNS, rows, name)
    found = await standings(services, agency, t, None)
    return _csv(
        PEOPLE_COLUMNS, [people_row(agency, s.compliance, s.needs, zone) for s in found], name
    )


def _csv(columns: Sequence[str], rows: Sequence[Any], name: str) -> Response:
    cleaned = [{k: cell(row[k]) for k in columns} for row in rows]
    return csv_response(columns, cleaned, name.replace("/", "-"))


class RecordRequest(BaseModel):
    """Training other than a session, as a supervisor enters it."""

    model_config = ConfigDict(extra="forbid")
    agency: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    person: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    category: Literal["initial", "continuing"]
    kind: Literal["classroom", "online", "other"]
    title: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    minutes: Annotated[int, Field(ge=1, le=MAX_RECORD_MINUTES, strict=True)]
    taken_at: Annotated[StrictStr, Field(min_length=10, max_length=40)]

    @field_validator("person", "title")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value or not value.isprintable():
            raise ValueError("must be printable text, not blank")
        return value


@router.post(
    "/api/v1/training/records",
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400),
)
async def enter_record(
    body: RecordRequest, principal: PrincipalDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    """Enter classroom, online or other training for a person of the agency."""
    require(principal, policy.ENTER_TRAINING, body.agency)
    if services.settings.is_training(body.agency):
        # A trainee's hours count in their own agency (as a session's do): kept in a training
        # agency they would reach no one's compliance.
        raise unprocessable(
            "agency", f"{body.agency} is a training agency: enter the person's own agency"
        )
    zone = ZoneInfo(services.settings.agency_config(body.agency).zone)
    taken_at = when(body.taken_at, "taken_at", zone)
    now = services.clock()
    if taken_at > now:
        raise unprocessable("taken_at", "is in the future: enter training once it is taken")
    if taken_at.year < 1990:
        raise unprocessable("taken_at", "is before 1990")
    await reads.record(body.agency, "training.record.enter", body.person)
    record = await TrainingRecords(services.sessions).add(
        TrainingRecordRow(
            agency=body.agency,
            person=body.person,
            category=body.category,
            kind=body.kind,
            title=body.title,
            minutes=body.minutes,
            taken_at=taken_at,
            session_id=None,
            entered_by=principal.label[:160],
            entered_at=now,
        )
    )
    return record.as_json()


@router.delete(
    "/api/v1/training/records/{record_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(404, 409),
)
async def remove_record(
    record_id: RecordId,
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    reason: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Remove a mis-entered record. A session's record is not removed here: the session is the
    evidence of that time. The access log keeps the record as it was, who removed it and why."""
    if principal.role not in policy.ENTER_TRAINING:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    store = TrainingRecords(services.sessions)
    record = await store.get(record_id)
    if record is None:
        raise HTTPException(
            404, {"field": "record_id", "detail": f"no training record {record_id}"}
        )
    require(principal, policy.ENTER_TRAINING, record.agency)
    if record.session_id is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "a training session's record is kept with its session"
        )
    await _log_removal(reads, record, reason)
    await store.remove(record_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _log_removal(reads: Reads, record: TrainingRecord, reason: str | None) -> None:
    kept = {k: v for k, v in record.as_json().items() if k not in ("agency", "session_id")}
    if reason:
        kept["reason"] = reason
    await reads.record(record.agency, "training.record.remove", json.dumps(kept))
