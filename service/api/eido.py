"""NENA EIDO documents over HTTP (DESIGN.md §8): a CAD (or its adapter) pushes each incident
snapshot; the events it implies are stored for the token's agency."""

from __future__ import annotations

from time import perf_counter
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from cad_adapters import eido
from cad_adapters.core import ParseError
from contract import policy
from contract.wire import CanonicalEvent
from service import ingest
from service.api.deps import ServicesDep
from service.api.refusals import AUTHENTICATED, refusals
from service.api.uploads import Upload
from service.refused import Invalid, Refused
from service.store.events import Appended

router = APIRouter(responses=AUTHENTICATED)
# application/json, or a JSON media type such as STA-024's application/emergency.eido+json.
EIDO_TYPES: Final = ("application/json", "application/emergency.eido+json")
EIDO_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "object"}} for t in EIDO_TYPES},
        "description": "One NENA-STA-021 EIDO JSON document",
    }
}


def _is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


@router.post("/api/v1/eido", openapi_extra=EIDO_BODY, responses=refusals(413, 415))
async def post_eido(
    request: Request,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> JSONResponse:
    """Store the events an EIDO implies (call received, answered, transferred, ended, nature,
    units dispatched and on scene). Snapshots restate facts: the first report of each wins and
    a restated one is a `duplicate`, never a conflict. Answers like `/api/v1/events`, with the
    `call_id`. Refusals are kept in the reject store with the body."""
    started = perf_counter()
    upload = Upload()
    try:
        target = await upload.receive(
            request,
            services,
            agency,
            policy.POST_EIDO,
            "EIDO documents",
            (_is_json, "application/json"),
        )
        try:
            document = eido.load(upload.body)
            call_id = eido.call_id(document)
            records = eido.events_of(document, target)
        except ParseError as exc:
            raise Invalid(str(exc), exc.field or "body", target) from None
        events = [CanonicalEvent.model_validate(r).to_event() for r in records]
        assert upload.principal is not None
        ingest.authorize(upload.principal, events)
        appended = await services.store.append(events, keep_first=True) if events else Appended([])
    except Refused as refusal:
        return await upload.refused(services, request, refusal)
    except Exception:
        services.metrics.refused(500)  # not committed: the CAD will send its snapshot again
        raise
    services.metrics.ingested(perf_counter() - started)
    answer = ingest.acknowledgement(appended, single=False)
    return JSONResponse({**answer, "agency": target, "call_id": call_id})
