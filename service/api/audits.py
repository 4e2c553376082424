"""QI audit review over HTTP: the audit list, its exports, and what the review form needs.

- `GET /api/v1/audits` lists an agency's calls with the reviewer's filters, newest first, by pages.
- `GET /api/v1/exports/audits.csv` / `.json`: the same filters, every matching call (streamed in
  chunks), one flat row or one full draft per call; `call_id=` narrows either to one call.
- `GET /api/v1/qi/reasons`: the coded reason lists and the profile's thresholds, for the form.
- `GET /api/v1/qi/me`: the token's own role, name and agencies (the pages' agency picker).
- `GET /api/v1/calls/{agency}/{call_id}/audit`: one call's audit draft (the §8 contract).

A training agency's audits are listed and read like any other's, the list marked
`"training": true`; its exports are refused (422 naming `agency`): the files go to records and
registries, where a scenario would pass for a real call (service/api/periods.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response, StreamingResponse

from contract import policy
from contract.reasons import FREE_TEXT_MAX, FREE_TEXT_PREFIX
from service.api.access import ReadsDep
from service.api.deps import PrincipalDep, Services, ServicesDep, require
from service.api.periods import ordered, period_bound, real_only
from service.api.refusals import AUTHENTICATED, document, refusals, unprocessable
from service.calls import audit_drafts, call_audit
from service.qi import audit_csv
from service.qi.audit import DELAY_REASONS, NONRECOGNITION_REASONS, AuditDraft
from service.qi.sampling import SEED_MAX, Sample
from service.serialise import audit_json
from service.store.audit_list import (
    MAX_LIMIT,
    AuditFilter,
    Cursor,
    audit_page,
    matching_calls,
    with_sample,
)

router = APIRouter(responses=AUTHENTICATED)
Agency = Annotated[str, Query(min_length=1, max_length=32)]
Flag = Annotated[str | None, Query()]
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off", ""})


def flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() in FALSE:
        return False
    if value.lower() in TRUE:
        return True
    raise unprocessable(name, f"{value!r} is not a boolean; use true or false")


def audit_filter(
    agency: Agency,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    telecommunicator: Annotated[str | None, Query(max_length=128)] = None,
    missed: Flag = None,
    unreviewed: Flag = None,
    unsigned: Flag = None,
    population: Flag = None,
    call_id: Annotated[str | None, Query(max_length=128)] = None,
    sample: Annotated[str | None, Query()] = None,
    seed: Annotated[str | None, Query()] = None,
) -> AuditFilter:
    """The list's filters from the query string; every bad one is refused naming the field."""
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    ordered(t1, t2)
    return AuditFilter(
        agency=agency,
        start=t1,
        end=t2,
        telecommunicator=telecommunicator or None,
        missed=flag(missed, "missed"),
        unreviewed=flag(unreviewed, "unreviewed"),
        unsigned=flag(unsigned, "unsigned"),
        population=flag(population, "population"),
        call_id=call_id or None,
        sample=sample_of(sample, seed),
    )


def sample_of(fraction: str | None, seed: str | None) -> Sample | None:
    """`sample` (a fraction above 0 and at most 1) with the `seed` that makes it reproducible."""
    if fraction is None or fraction == "":
        if seed:
            raise unprocessable("sample", "a seed needs a sample fraction")
        return None
    try:
        value = float(fraction)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:  # also refuses NaN
        raise unprocessable("sample", f"{fraction!r} is not a fraction above 0 and at most 1")
    if not seed or len(seed) > SEED_MAX or not seed.isprintable():
        raise unprocessable(
            "seed", f"a sample needs a seed of 1 to {SEED_MAX} printable characters"
        )
    return Sample(value, seed)


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/api/v1/calls/{agency}/{call_id}/audit", responses=refusals(404))
async def get_audit(
    agency: str, call_id: str, principal: PrincipalDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    require(principal, policy.READ_AUDITS, agency)
    await reads.record(agency, "audit.read", call_id)
    audit = await call_audit(services.store, services.settings, agency, call_id)
    if audit is None:
        raise HTTPException(404, f"no call {call_id} in agency {agency}")
    # A training agency's call is a scenario played to a trainee: said so, as its list says.
    return {**audit_json(audit), "training": services.settings.is_training(agency)}


def _echo(f: AuditFilter) -> dict[str, Any]:
    return {
        "agency": f.agency,
        "from": f.start.isoformat() if f.start else None,
        "to": f.end.isoformat() if f.end else None,
        "telecommunicator": f.telecommunicator,
        "missed": f.missed,
        "unreviewed": f.unreviewed,
        "unsigned": f.unsigned,
        "population": f.population,
        "call_id": f.call_id,
        "sample": f.sample.fraction if f.sample else None,
        "seed": f.sample.seed if f.sample else None,
    }


@router.get("/api/v1/audits")
async def list_audits(
    principal: PrincipalDep,
    services: ServicesDep,
    f: FilterDep,
    reads: ReadsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    require(principal, policy.READ_AUDITS, f.agency)
    await reads.record(f.agency, "audits.list")
    after = None
    if cursor:
        try:
            after = Cursor.decode(cursor)
        except ValueError as exc:
            raise unprocessable("cursor", str(exc)) from None
    size = 50
    if limit is not None:
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise unprocessable("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        size = int(limit)
    profile = services.settings.agency_config(f.agency).profile
    drawn, sample = await with_sample(services.sessions, f)
    page = await audit_page(services.sessions, drawn, profile, after=after, limit=size)
    return {
        "filters": _echo(f),
        "training": services.settings.is_training(f.agency),
        "sample": sample,
        "benchmark_profile": profile.name,
        "thresholds": {
            "recognition_s": profile.recognition_s,
            "first_compression_s": profile.first_compression_s,
        },
        "audits": page.rows,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "counts": page.counts,
    }


async def _drafts(services: Services, f: AuditFilter) -> AsyncIterator[AuditDraft]:
    """Every matching call's draft; `f` with its sample already drawn (`with_sample`)."""
    profile = services.settings.agency_config(f.agency).profile
    async for chunk in matching_calls(services.sessions, f, profile):
        for audit in audit_drafts(services.settings, f.agency, chunk):
            yield audit


def _filename(f: AuditFilter, ext: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f.call_id or f.agency)
    return f"audits-{safe}-{stamp}.{ext}"


@router.get("/api/v1/exports/audits.csv", response_class=Response, responses=document("text/csv"))
async def export_csv(
    principal: PrincipalDep,
    services: ServicesDep,
    f: FilterDep,
    reads: ReadsDep,
) -> StreamingResponse:
    """One flat row per matching call (columns in `audit_csv.COLUMNS`), newest first."""
    require(principal, policy.READ_AUDITS, f.agency)
    real_only(services.settings, f.agency, "an audit export")
    await reads.record(f.agency, "audits.export")
    drawn, _ = await with_sample(services.sessions, f)

    async def body() -> AsyncIterator[str]:
        yield audit_csv.header()
        async for d in _drafts(services, drawn):
            yield audit_csv.line(d)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(f, "csv")}"'},
    )


@router.get("/api/v1/exports/audits.json")
async def export_json(
    principal: PrincipalDep,
    services: ServicesDep,
    f: FilterDep,
    reads: ReadsDep,
) -> StreamingResponse:
    """`{"filters": …, "exported_at": …, "audits": [full drafts]}`, newest first."""
    require(principal, policy.READ_AUDITS, f.agency)
    real_only(services.settings, f.agency, "an audit export")
    await reads.record(f.agency, "audits.export")
    drawn, sample = await with_sample(services.sessions, f)
    head = {
        "filters": _echo(f),
        "sample": sample,
        "exported_at": datetime.now(UTC).isoformat(),
    }

    async def body() -> AsyncIterator[str]:
        yield json.dumps(head)[:-1] + ', "audits": ['
        first = True
        async for d in _drafts(services, drawn):
            yield ("" if first else ",") + json.dumps(audit_json(d))
            first = False
        yield "]}"

    return StreamingResponse(
        body(),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{_filename(f, "json")}"'},
    )


def _codes(seeded: tuple[str, ...], own: tuple[str, ...]) -> list[str]:
    return list(seeded) + [code for code in own if code not in seeded]


@router.get("/api/v1/qi/reasons")
async def reasons(principal: PrincipalDep, services: ServicesDep, agency: Agency) -> dict[str, Any]:
    """The coded reasons the review form offers, and how free text goes beside them."""
    require(principal, policy.READ_AUDITS, agency)
    config = services.settings.agency_config(agency)
    profile = config.profile
    return {
        "agency": agency,
        "nonrecognition_reasons": _codes(
            NONRECOGNITION_REASONS, config.extra_nonrecognition_reasons
        ),
        "delay_reasons": _codes(DELAY_REASONS, config.extra_delay_reasons),
        "free_text_prefix": FREE_TEXT_PREFIX,
        "free_text_max": FREE_TEXT_MAX,
        "benchmark_profile": profile.name,
        "thresholds": {
            "recognition_s": profile.recognition_s,
            "first_compression_s": profile.first_compression_s,
        },
    }


@router.get("/api/v1/qi/me")
async def me(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Who the token is: the QI pages offer its agencies (its training agencies apart, alone)
    and may write reviews if its role can, signed in the holder's own name (`reviewer`: the
    token's name or OIDC subject; none for a token issued without a name). `server_time` lets
    the page stamp a review by the service's clock, not the workstation's."""
    return {
        "role": principal.role,
        "name": principal.name,
        "reviewer": principal.names[0] if principal.names else None,
        "server_time": services.clock().isoformat(),
        "agencies": sorted(principal.agencies),
        "training_agencies": [
            a for a in services.settings.training_agencies() if a in principal.agencies
        ],
        "may_review": policy.may_post(principal.role, "qi.review"),
        "may_read_measures": principal.role in policy.READ_MEASURES,
    }
