"""Training sessions (issue 19) over HTTP: a trainer plays scenarios live into a training agency,
the trainee works the call from the console, each ended call is scored as its audit says, and
ending the session credits its time (abandoning credits nothing). Roles and agencies refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from support.harness import Panel, Server, service_settings, start_server
from support.training import TRAINING_AGENCIES, checks_of, expected_from_audit

from service.store.tables import TrainingRecordRow
from service.training.scenarios import scenario_named

TRAINEE = "dana"
BODY = {
    "agency": "KCE-TRAIN",
    "home_agency": "KCE",
    "trainee": TRAINEE,
    "category": "continuing",
    "scenarios": ["classic_arrest", "caller_refuses"],
    "speed": 10,
}


@pytest.fixture
async def server(migrated_database_url: str) -> AsyncIterator[Server]:
    settings = service_settings(migrated_database_url, agencies=TRAINING_AGENCIES)
    running = await start_server(settings)
    try:
        yield running
    finally:
        await running.stop()


async def client_named(server: Server, role: str, name: str, *agencies: str) -> httpx.AsyncClient:
    token = await server.services.tokens.create(role, list(agencies), name)
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def until(server: Server, client: httpx.AsyncClient, sid: int, ready: Any) -> dict[str, Any]:
    """The session once `ready(session)` holds (the player stores events as their time comes)."""
    async with asyncio.timeout(10):
        while True:
            session = (await client.get(f"/api/v1/training/sessions/{sid}")).json()
            if ready(session):
                return session
            await asyncio.sleep(0.05)


def now() -> str:
    return datetime.now(UTC).isoformat()


async def press(client: httpx.AsyncClient, call_id: str, n: int, kind: str, **data: Any) -> None:
    """What the trainee's panel posts for a key."""
    event = {
        "event_id": f"con-{call_id}-{n}", "call_id": call_id, "agency": "KCE-TRAIN", "kind": kind,
        "at": now(), "source": "console", "actor": TRAINEE, "data": data,
    }  # fmt: skip
    response = await client.post("/api/v1/events", json=event)
    assert response.status_code == 200, response.text


def answered(number: int) -> Any:
    def ready(session: dict[str, Any]) -> bool:
        call = session["scenarios"][number - 1]["call"]
        return bool(call and call["answered_at"])

    return ready


async def test_a_session_played_scored_and_credited(server: Server) -> None:
    trainer = await client_named(server, "supervisor", "sgt-lee", "KCE", "KCE-TRAIN")
    trainee = await client_named(server, "telecommunicator", TRAINEE, "KCE", "KCE-TRAIN")
    other = await client_named(server, "telecommunicator", "sam", "KCE", "KCE-TRAIN")
    async with trainer, trainee, other:
        created = await trainer.post("/api/v1/training/sessions", json=BODY)
        assert created.status_code == 201, created.text
        session = created.json()
        sid = session["id"]
        assert session["status"] == "running" and session["trainer"] == "sgt-lee"
        assert [s["state"] for s in session["scenarios"]] == ["pending", "pending"]
        panel = await Panel.open(server, await server.services.tokens.create(
            "telecommunicator", ["KCE", "KCE-TRAIN"], TRAINEE))  # fmt: skip
        await panel.next(type="snapshot")

        # Scenario 1: played live, worked from the console, stopped, scored.
        started = (await trainer.post(f"/api/v1/training/sessions/{sid}/next")).json()
        first = started["scenarios"][0]
        call_id = first["call_id"]
        assert call_id == f"TRN-{sid}-1" and started["current"] == 1
        session = await until(server, trainer, sid, answered(1))
        playing = session["scenarios"][0]
        assert playing["state"] == "playing"
        assert playing["call"]["telecommunicator"] == TRAINEE
        classic = scenario_named("classic_arrest")
        lines = classic.lines["opening"] + classic.lines["conscious"]
        assert [c["text"] for c in playing["caller"]] == [line.text for line in lines]
        # The trainee's panel has the call, marked as training.
        message = await panel.next(type="call", call_id=call_id)
        assert message["call"]["training"] is True and message["event"]["source"] == "cad"

        await press(trainee, call_id, 1, "triage.conscious", answer="no")
        session = (await trainer.get(f"/api/v1/training/sessions/{sid}")).json()
        assert [c["text"] for c in session["scenarios"][0]["caller"]] == [
            line.text for line in classic.lines["breathing"]
        ]
        await press(trainee, call_id, 2, "triage.breathing", answer="no")
        await press(trainee, call_id, 3, "tcpr.started", variant="adult", language="en")
        await press(trainee, call_id, 4, "tcpr.first_compression")
        session = (await trainer.get(f"/api/v1/training/sessions/{sid}")).json()
        pressed = session["scenarios"][0]["pressed"]
        assert [p["kind"] for p in pressed] == [
            "triage.conscious", "triage.breathing", "tcpr.started", "tcpr.first_compression",
        ]  # fmt: skip
        assert all(p["actor"] == TRAINEE and p["seconds"] >= 0 for p in pressed)
        assert session["scenarios"][0]["score"] is None  # scored once the call has ended

        stopped = (await trainer.post(f"/api/v1/training/sessions/{sid}/stop")).json()
        done = stopped["scenarios"][0]
        assert done["state"] == "ended" and done["ended_at"] is not None
        assert done["caller"] == []
        assert not server.services.training.player.playing(call_id)
        audit = (await trainer.get(f"/api/v1/calls/KCE-TRAIN/{call_id}/audit")).json()
        assert checks_of(done["score"]) == expected_from_audit(classic, audit)
        assert done["score"]["passed"] == done["score"]["total"] == 5
        assert done["intervals"] == audit["intervals"]
        stored = await server.services.store.call_events("KCE-TRAIN", call_id)
        assert {e.source for e in stored} == {"cad", "console"}
        assert f"{call_id}-stop" in {e.event_id for e in stored}

        # Scenario 2: the caller refuses; recorded as such, that is correct handling.
        await trainer.post(f"/api/v1/training/sessions/{sid}/next")
        session = await until(server, trainer, sid, answered(2))
        second = session["scenarios"][1]["call_id"]
        await press(trainee, second, 1, "triage.conscious", answer="no")
        await press(trainee, second, 2, "triage.breathing", answer="unsure")
        session = (await trainer.get(f"/api/v1/training/sessions/{sid}")).json()
        refusal = session["scenarios"][1]["caller"][0]["text"]
        assert refusal == scenario_named("caller_refuses").lines["instructions"][0].text
        await press(trainee, second, 3, "tcpr.not_given", reason="caller_refused")
        refused = await trainer.post(f"/api/v1/training/sessions/{sid}/next")
        assert refused.status_code == 409  # every scenario played
        # Moving on ended the call all the same, so it is scored.
        session = (await trainer.get(f"/api/v1/training/sessions/{sid}")).json()
        scored = session["scenarios"][1]
        assert scored["state"] == "ended"
        audit = (await trainer.get(f"/api/v1/calls/KCE-TRAIN/{second}/audit")).json()
        expected = expected_from_audit(scenario_named("caller_refuses"), audit)
        assert checks_of(scored["score"]) == expected and expected["exclusion"] is True
        assert session["score"]["total"] == 5 + 4

        # The trainee reads their own report, without the trainer's lines; nobody else may.
        mine = await trainee.get(f"/api/v1/training/sessions/{sid}")
        assert mine.status_code == 200
        assert all(s["caller"] == [] and "script" not in s for s in mine.json()["scenarios"])
        assert (await other.get(f"/api/v1/training/sessions/{sid}")).status_code == 403
        listed = await trainee.get("/api/v1/training/sessions", params={"agency": "KCE"})
        assert [s["id"] for s in listed.json()] == [sid]
        assert (await other.get("/api/v1/training/sessions", params={"agency": "KCE"})).json() == []

        ended = await trainer.post(f"/api/v1/training/sessions/{sid}/end")
        assert ended.status_code == 200, ended.text
        body = ended.json()
        assert body["status"] == "completed" and body["ended_at"] is not None
        again = await trainer.post(f"/api/v1/training/sessions/{sid}/end")
        assert again.status_code == 409
        await panel.close()

    async with server.services.sessions() as db:
        (record,) = (await db.scalars(select(TrainingRecordRow))).all()
    duration = datetime.fromisoformat(body["ended_at"]) - datetime.fromisoformat(body["started_at"])
    assert (record.agency, record.person, record.category, record.kind) == (
        "KCE", TRAINEE, "continuing", "session")  # fmt: skip
    assert record.session_id == sid and record.minutes == round(duration.total_seconds() / 60)
    assert record.entered_by == "sgt-lee" and "Classic arrest" in record.title
    assert body["credited_minutes"] == record.minutes


async def test_abandoning_credits_nothing(server: Server) -> None:
    trainer = await client_named(server, "admin", "ada", "KCE", "KCE-TRAIN")
    async with trainer:
        sid = (await trainer.post("/api/v1/training/sessions", json=BODY)).json()["id"]
        await trainer.post(f"/api/v1/training/sessions/{sid}/next")
        abandoned = await trainer.post(f"/api/v1/training/sessions/{sid}/abandon")
        assert abandoned.status_code == 200 and abandoned.json()["status"] == "abandoned"
        events = await server.services.store.call_events("KCE-TRAIN", f"TRN-{sid}-1")
        assert events[-1].kind == "call.ended"  # the call playing was ended with it
        refused = await trainer.post(f"/api/v1/training/sessions/{sid}/next")
        assert refused.status_code == 409
    async with server.services.sessions() as db:
        assert (await db.scalars(select(TrainingRecordRow))).all() == []


async def test_who_may_train_and_with_what(server: Server) -> None:
    trainer = await client_named(server, "supervisor", "sgt", "KCE", "KCE-TRAIN")
    qi = await client_named(server, "qi", "q", "KCE", "KCE-TRAIN")
    tc = await client_named(server, "telecommunicator", TRAINEE, "KCE", "KCE-TRAIN")
    home_only = await client_named(server, "supervisor", "s2", "KCE")
    elsewhere = await client_named(server, "admin", "a2", "OTHER", "KCE-TRAIN")
    anonymous = httpx.AsyncClient(base_url=server.url)
    async with trainer, qi, tc, home_only, elsewhere, anonymous:
        url = "/api/v1/training/sessions"
        assert (await anonymous.post(url, json=BODY)).status_code == 401
        assert (await tc.post(url, json=BODY)).status_code == 403
        assert (await qi.post(url, json=BODY)).status_code == 403
        assert (await home_only.post(url, json=BODY)).status_code == 403
        assert (await elsewhere.post(url, json=BODY)).status_code == 403

        async def refused(field: str, **change: Any) -> None:
            response = await trainer.post(url, json={**BODY, **change})
            assert response.status_code == 422, response.text
            assert field in str(response.json()["detail"]), response.text

        await refused("agency", agency="KCE")  # not a training agency
        await refused("home_agency", home_agency="KCE-TRAIN")
        await refused("scenarios[1]", scenarios=["infant", "drowning"])
        await refused("scenarios", scenarios=[])
        await refused("category", category="refresher")
        await refused("speed", speed=0)
        await refused("trainee", trainee="  ")

        sid = (await trainer.post(url, json=BODY)).json()["id"]
        for client in (tc, qi, home_only, elsewhere):  # the trainee may read, not run, a session
            assert (await client.post(f"{url}/{sid}/next")).status_code == 403
            assert (await client.post(f"{url}/{sid}/end")).status_code == 403
        for client in (qi, home_only, elsewhere):
            assert (await client.get(f"{url}/{sid}")).status_code == 403
        assert (await tc.get(f"{url}/{sid}")).status_code == 200
        assert (await trainer.get(f"{url}/999999")).status_code == 404
        assert (await trainer.post(f"{url}/999999/next")).status_code == 404
        assert (await trainer.get(url, params={"agency": "OTHER"})).status_code == 403
        assert [s["id"] for s in (await trainer.get(url, params={"agency": "KCE"})).json()] == [sid]
        assert (await home_only.get(url, params={"agency": "KCE"})).json() == []

        offered = (await trainer.get("/api/v1/training/scenarios")).json()
        assert [s["id"] for s in offered["scenarios"]][:2] == ["classic_arrest", "agonal_breathing"]
        assert offered["training_agencies"] == ["KCE-TRAIN"] and offered["home_agencies"] == ["KCE"]
        assert (await tc.get("/api/v1/training/scenarios")).status_code == 403
        await trainer.post(f"{url}/{sid}/abandon")


async def test_two_trainers_pressing_next_at_once_play_one_scenario_at_a_time(
    server: Server,
) -> None:
    """Two clicks of "next" together (two trainers, two tabs): never two scenarios' calls live
    at once in the trainee's panel, and no click answers 500; two clicks of "end" credit once."""
    trainer = await client_named(server, "supervisor", "sgt", "KCE", "KCE-TRAIN")
    body = {**BODY, "scenarios": ["classic_arrest", "caller_refuses", "infant"], "speed": 1}
    async with trainer:
        sid = (await trainer.post("/api/v1/training/sessions", json=body)).json()["id"]
        url = f"/api/v1/training/sessions/{sid}"
        for _ in range(2):
            answers = await asyncio.gather(*(trainer.post(f"{url}/next") for _ in range(2)))
            assert sorted(a.status_code for a in answers) in ([200, 200], [200, 409]), [
                a.text for a in answers
            ]
        session = (await trainer.get(url)).json()
        played = [s for s in session["scenarios"] if s["call_id"]]
        assert all(s["ended_at"] for s in played[:-1]), played  # only the last one may be live
        assert len({s["call_id"] for s in played}) == len(played)
        ended = await asyncio.gather(*(trainer.post(f"{url}/end") for _ in range(2)))
        assert sorted(a.status_code for a in ended) == [200, 409], [a.text for a in ended]
        for s in played:
            assert server.services.training.player.playing(s["call_id"]) is False
    async with server.services.sessions() as db:  # ended twice at once, credited once
        assert len((await db.scalars(select(TrainingRecordRow))).all()) == 1


async def test_a_session_with_nothing_played_is_abandoned_not_completed(server: Server) -> None:
    """Completing a session credits its time: with no scenario played there is nothing to
    credit, so "end" is refused (409) and the trainer abandons it."""
    trainer = await client_named(server, "supervisor", "sgt", "KCE", "KCE-TRAIN")
    async with trainer:
        sid = (await trainer.post("/api/v1/training/sessions", json=BODY)).json()["id"]
        refused = await trainer.post(f"/api/v1/training/sessions/{sid}/end")
        assert refused.status_code == 409 and "abandon" in refused.text, refused.text
        assert (await trainer.post(f"/api/v1/training/sessions/{sid}/abandon")).status_code == 200
    async with server.services.sessions() as db:
        assert (await db.scalars(select(TrainingRecordRow))).all() == []


async def test_training_is_entered_for_a_home_agency_not_a_training_one(server: Server) -> None:
    """A training agency holds scenarios, not people: time entered there would count for nobody's
    record, so it is refused naming `agency` (a session credits the trainee's home agency)."""
    supervisor = await client_named(server, "supervisor", "sgt", "KCE", "KCE-TRAIN")
    entry = {
        "agency": "KCE-TRAIN", "person": TRAINEE, "category": "continuing", "kind": "classroom",
        "title": "CE", "minutes": 60, "taken_at": "2026-01-05",
    }  # fmt: skip
    async with supervisor:
        refused = await supervisor.post("/api/v1/training/records", json=entry)
        assert refused.status_code == 422 and "agency" in refused.text, refused.text
        entered = await supervisor.post("/api/v1/training/records", json={**entry, "agency": "KCE"})
        assert entered.status_code == 201, entered.text


async def test_a_trainee_takes_one_training_call_at_a_time(server: Server) -> None:
    """A second session of the same trainee cannot play while the first has a call on: the
    trainee's panel would hold two callers at once. Once that call ends, it may."""
    trainer = await client_named(server, "supervisor", "sgt", "KCE", "KCE-TRAIN")
    async with trainer:
        first = (await trainer.post("/api/v1/training/sessions", json=BODY)).json()["id"]
        second = (await trainer.post("/api/v1/training/sessions", json=BODY)).json()["id"]
        assert (await trainer.post(f"/api/v1/training/sessions/{first}/next")).status_code == 200
        refused = await trainer.post(f"/api/v1/training/sessions/{second}/next")
        assert refused.status_code == 409, refused.text
        assert f"session {first} has a call playing" in refused.json()["detail"]
        other = {**BODY, "trainee": "omar"}
        third = (await trainer.post("/api/v1/training/sessions", json=other)).json()["id"]
        assert (await trainer.post(f"/api/v1/training/sessions/{third}/next")).status_code == 200
        assert (await trainer.post(f"/api/v1/training/sessions/{first}/stop")).status_code == 200
        assert (await trainer.post(f"/api/v1/training/sessions/{second}/next")).status_code == 200
        for sid in (first, second, third):
            await trainer.post(f"/api/v1/training/sessions/{sid}/abandon")
