"""A training session as the trainer's page and the printable report read it: each scenario with
its state, its call as the trainee's panel shows it, what the trainee pressed (times from T0),
the caller's lines for where the trainee is now, and, once its call has ended, its score.

Every played scenario is read from the store and folded and drafted by the same core as a real
call (service/calls.py), on whichever replica is asked. The trainee reading their own report
gets no caller lines or script: those are the trainer's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contract.event import iso
from service.calls import call_states
from service.qi.audit import draft
from service.serialise import benchmarks_json, call_view_json, timeline_entry_json
from service.settings import Settings
from service.store.events import EventStore
from service.store.training_sessions import Played, TrainingSession
from service.training.scenarios import POINTS, Line, Scenario, scenario_named
from service.training.scoring import Score, score
from service.training.sessions import credited_minutes
from service.triage.view import call_view


def line_json(line: Line) -> dict[str, Any]:
    return {"cue": line.cue, "text": line.text, "gloss": line.gloss}


def score_json(s: Score) -> dict[str, Any]:
    return {
        "passed": s.passed,
        "total": s.total,
        "checks": [
            {"name": c.name, "label": c.label, "passed": c.passed, "detail": c.detail}
            for c in s.checks
        ],
    }


def scenario_summary(scenario: Scenario) -> dict[str, Any]:
    """A scenario as the trainer chooses it."""
    return {
        "id": scenario.id,
        "title": scenario.title,
        "brief": scenario.brief,
        "duration_seconds": scenario.duration_s,
        "expect": {
            "exclusion": scenario.expect.exclusion,
            "variant": scenario.expect.variant,
            "language": scenario.expect.language,
        },
    }


async def played_json(
    store: EventStore,
    settings: Settings,
    session: TrainingSession,
    number: int,
    played: Played,
    *,
    trainer: bool,
) -> dict[str, Any]:
    scenario = scenario_named(played.scenario)
    out: dict[str, Any] = {
        "number": number,
        **scenario_summary(scenario),
        "scenario": scenario.id,
        "call_id": played.call_id,
        "started_at": iso(played.started_at),
        "ended_at": iso(played.ended_at),
        "speed": played.speed,
        "state": "pending",
        "call": None,
        "pressed": [],
        "caller": [],
        "intervals": None,
        "benchmarks": None,
        "recognition_path": None,
        "score": None,
    }
    if trainer:
        out["script"] = {p: [line_json(line) for line in scenario.lines.get(p, ())] for p in POINTS}
    if played.call_id is None:
        return out
    events = await store.call_events(session.agency, played.call_id)
    if not events:
        out["state"] = "starting"
        return out
    config = settings.agency_config(session.agency)
    state = next(call_states(settings, session.agency, [(played.call_id, events)]))
    audit = draft(state, config.profile)
    view = call_view(state, config)
    ended = state.ended_at is not None
    out.update(
        state="ended" if ended else "playing",
        ended_at=iso(state.ended_at) if ended else None,
        call=call_view_json(view),
        pressed=[timeline_entry_json(e) for e in audit.timeline if e.source == "console"],
        intervals=dict(audit.intervals),
        benchmarks=benchmarks_json(audit.benchmarks),
        recognition_path=audit.recognition_path,
    )
    if trainer and not ended:
        lines = scenario.lines_at(view.phase, state.answered_at is not None)
        out["caller"] = [line_json(line) for line in lines]
    if ended:
        out["score"] = score_json(score(scenario, audit))
    return out


async def session_json(
    store: EventStore,
    settings: Settings,
    session: TrainingSession,
    *,
    trainer: bool,
    now: datetime,
) -> dict[str, Any]:
    """The session as `GET /api/v1/training/sessions/{id}` gives it."""
    scenarios = [
        await played_json(store, settings, session, i + 1, p, trainer=trainer)
        for i, p in enumerate(session.scenarios)
    ]
    scored = [s["score"] for s in scenarios if s["score"] is not None]
    end = session.ended_at or now
    return {
        **session_head(session),
        "duration_minutes": round((end - session.started_at).total_seconds() / 60, 1),
        "credited_minutes": credited_minutes(session) if session.status == "completed" else None,
        "server_time": now.isoformat(),
        "current": None if session.current is None else session.current + 1,
        "scenarios": scenarios,
        "score": {
            "passed": sum(s["passed"] for s in scored),
            "total": sum(s["total"] for s in scored),
            "scenarios_scored": len(scored),
        },
    }


def session_head(session: TrainingSession) -> dict[str, Any]:
    """A session as the list gives it."""
    return {
        "id": session.id,
        "agency": session.agency,
        "home_agency": session.home_agency,
        "trainee": session.trainee,
        "trainer": session.trainer,
        "category": session.category,
        "status": session.status,
        "started_at": iso(session.started_at),
        "ended_at": iso(session.ended_at),
        "scenario_ids": [p.scenario for p in session.scenarios],
        "played": sum(p.call_id is not None for p in session.scenarios),
    }
