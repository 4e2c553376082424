"""Training sessions (`/api/v1/training/...`, issue 19): a trainer (supervisor or admin of both
agencies) plays simulator scenarios live into a training agency for one trainee, reads the
caller's lines and what the trainee pressed, and ends the session, crediting its time.

The training agency must be configured `"training": true`; the trainee's own agency (whose
education record the time joins) must not be. The trainee, by the name on their token, reads
their own sessions' reports (no caller lines); anyone else is refused with 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from contract import policy
from service.api.deps import PrincipalDep, Services, ServicesDep, require
from service.api.kept import KeepsRefusals
from service.api.refusals import AUTHENTICATED, refusals, unprocessable
from service.store.tokens import MAX_AGENCY, Principal
from service.store.training_sessions import MovedOn, NoSuchSession, NotRunning, TrainingSession
from service.training.scenarios import BY_ID, SCENARIOS
from service.training.session_report import scenario_summary, session_head, session_json
from service.training.sessions import AllPlayed, NothingPlayed, TraineeBusy

router = APIRouter(responses=AUTHENTICATED, route_class=KeepsRefusals)

Agency = Annotated[StrictStr, Field(min_length=1, max_length=MAX_AGENCY)]
SessionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_SCENARIOS = 30
MAX_SPEED = 120.0


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency: Agency
    home_agency: Agency
    trainee: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    category: Literal["initial", "continuing"]
    scenarios: Annotated[list[StrictStr], Field(min_length=1, max_length=MAX_SCENARIOS)]
    # Plays the CAD timeline this many times faster (demonstrations, tests); 1 is real time.
    speed: Annotated[float, Field(gt=0, le=MAX_SPEED)] = 1.0


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


def _may_train(principal: Principal, *agencies: str) -> bool:
    return principal.role in policy.TRAIN and all(principal.may_act_for(a) for a in agencies)


def _is_trainee(principal: Principal, session: TrainingSession) -> bool:
    return (
        principal.role in policy.READ_OWN_FEEDBACK
        and session.trainee in principal.names
        and principal.may_act_for(session.home_agency)
    )


def _trainer_of(principal: Principal, session: TrainingSession) -> None:
    for agency in (session.agency, session.home_agency):
        require(principal, policy.TRAIN, agency)


@router.get("/api/v1/training/scenarios")
async def scenarios(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """The scenarios a trainer may play, and the trainer's training and home agencies."""
    if principal.role not in policy.TRAIN:
        raise _forbidden(f"role {principal.role} may not do this")
    training = services.settings.training_agencies()
    return {
        "scenarios": [scenario_summary(s) for s in SCENARIOS],
        "training_agencies": [a for a in training if principal.may_act_for(a)],
        "home_agencies": sorted(a for a in principal.agencies if a not in training),
    }


@router.post(
    "/api/v1/training/sessions", status_code=status.HTTP_201_CREATED, responses=refusals(400)
)
async def create_session(
    body: SessionRequest, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """Start a session (trainer: supervisor or admin of both agencies); nothing plays yet."""
    if principal.role not in policy.TRAIN:
        raise _forbidden(f"role {principal.role} may not do this")
    settings = services.settings
    if not settings.is_training(body.agency):
        raise unprocessable("agency", f"{body.agency} is not a training agency")
    if settings.is_training(body.home_agency):
        raise unprocessable("home_agency", f"{body.home_agency} is a training agency")
    for i, scenario in enumerate(body.scenarios):
        if scenario not in BY_ID:
            raise unprocessable(f"scenarios[{i}]", f"unknown scenario; known: {', '.join(BY_ID)}")
    for agency in (body.agency, body.home_agency):
        require(principal, policy.TRAIN, agency)
    trainee = body.trainee.strip()
    if not trainee:
        raise unprocessable("trainee", "must name the trainee as on their token")
    now = services.training.clock()
    session = await services.training.sessions.create(
        agency=body.agency,
        home_agency=body.home_agency,
        trainee=trainee,
        trainer=principal.person[:160],
        category=body.category,
        scenarios=body.scenarios,
        speed=body.speed,
        now=now,
    )
    return await session_json(services.store, settings, session, trainer=True, now=now)


@router.get("/api/v1/training/sessions")
async def list_sessions(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=MAX_AGENCY)],
) -> list[dict[str, Any]]:
    """The sessions played in `agency` or for its trainees, newest first: all of them a trainer
    may open, or a trainee's own."""
    if principal.role not in policy.TRAIN | policy.READ_OWN_FEEDBACK:
        raise _forbidden(f"role {principal.role} may not do this")
    if not principal.may_act_for(agency):
        raise _forbidden(f"token is not valid for agency {agency}")
    trainee = None if principal.role in policy.TRAIN else (principal.name or "")
    found = await services.training.sessions.listing(agency, trainee)
    return [
        session_head(s)
        for s in found
        if _may_train(principal, s.agency, s.home_agency) or _is_trainee(principal, s)
    ]


async def _session(services: Services, session_id: int) -> TrainingSession:
    session = await services.training.sessions.get(session_id)
    if session is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"session_id: no session {session_id}"
        ) from None
    return session


@router.get("/api/v1/training/sessions/{session_id}", responses=refusals(404))
async def get_session(
    session_id: SessionId, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """The session: its scenarios, the caller's lines now (trainer), what the trainee pressed,
    the scores of the scenarios whose call has ended."""
    session = await _session(services, session_id)
    trainer = _may_train(principal, session.agency, session.home_agency)
    if not trainer and not _is_trainee(principal, session):
        raise _forbidden("only the session's trainer or trainee may read it")
    now = services.training.clock()
    return await session_json(services.store, services.settings, session, trainer=trainer, now=now)


async def _act(
    services: Services,
    principal: PrincipalDep,
    session_id: int,
    action: Callable[[], Awaitable[TrainingSession]],
) -> dict[str, Any]:
    _trainer_of(principal, await _session(services, session_id))
    try:
        session = await action()
    except NoSuchSession:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"session_id: no session {session_id}"
        ) from None
    except NotRunning as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the session is {exc}") from None
    except MovedOn:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the session moved on meanwhile (another click): reload it"
        ) from None
    except NothingPlayed:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "no scenario has been played: abandon the session instead"
        ) from None
    except TraineeBusy as busy:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the trainee's session {busy.session_id} has a call playing: end that call first",
        ) from None
    except AllPlayed:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "every scenario of the session has been played"
        ) from None
    now = services.training.clock()
    return await session_json(services.store, services.settings, session, trainer=True, now=now)


@router.post("/api/v1/training/sessions/{session_id}/next", responses=refusals(404, 409))
async def next_scenario(
    session_id: SessionId, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """Play the next scenario live from now (ending the call of the one before, if still live)."""
    return await _act(services, principal, session_id, lambda: services.training.next(session_id))


@router.post("/api/v1/training/sessions/{session_id}/stop", responses=refusals(404, 409))
async def stop_scenario(
    session_id: SessionId, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """End the call of the scenario playing now (the trainer hangs up); it is then scored."""
    return await _act(services, principal, session_id, lambda: services.training.stop(session_id))


@router.post("/api/v1/training/sessions/{session_id}/end", responses=refusals(404, 409))
async def end_session(
    session_id: SessionId, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """Complete the session: its duration joins the trainee's education record."""
    by = principal.person[:160]
    return await _act(
        services,
        principal,
        session_id,
        lambda: services.training.finish(session_id, completed=True, by=by),
    )


@router.post("/api/v1/training/sessions/{session_id}/abandon", responses=refusals(404, 409))
async def abandon_session(
    session_id: SessionId, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """Abandon the session: it credits nothing."""
    by = principal.person[:160]
    return await _act(
        services,
        principal,
        session_id,
        lambda: services.training.finish(session_id, completed=False, by=by),
    )
