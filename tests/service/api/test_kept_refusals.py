"""The people-facing writes keep their refusals as the feeds do (on SQLite and PostgreSQL): a
training record, a token, a training session, a debrief mark or an EMS link refused is answered
4xx naming the field and kept in the reject store with what was sent, under the sender's own
agency. Reads refused are not kept (they have no body); a sign-in refused never is (it carries
the secret)."""

from __future__ import annotations

import json
from typing import Any

from support.harness import Server


async def rejects(server: Server, agency: str = "A") -> list[dict[str, Any]]:
    async with await server.client("admin", agency) as admin:
        response = await admin.get("/api/v1/rejects", params={"agency": agency})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["rejects"]
        return found


RECORD = {
    "agency": "A",
    "person": "cal",
    "category": "initial",
    "kind": "classroom",
    "title": "Initial T-CPR",
    "minutes": 60,
    "taken_at": "2026-02-02",
}


async def test_a_refused_training_record_is_kept_with_its_body_and_field(server: Server) -> None:
    async with await server.client("supervisor", "A") as sup:
        declared = await sup.post("/api/v1/training/records", json={**RECORD, "minutes": 0})
        checked = await sup.post("/api/v1/training/records", json={**RECORD, "taken_at": "later"})
    assert declared.status_code == 422 and checked.status_code == 422
    newest, older = (await rejects(server))[:2]
    # The route's own check (a date it cannot read), naming the field as the answer did.
    assert newest["status"] == 422 and newest["field"] == "taken_at"
    assert newest["endpoint"] == "/api/v1/training/records"
    assert json.loads(newest["body"])["taken_at"] == "later"
    assert newest["principal"] and "test-supervisor" in newest["principal"]
    # FastAPI's declared check (minutes ≥ 1), kept the same way.
    assert older["status"] == 422 and older["field"] == "minutes"
    assert "minutes" in older["reason"]
    assert json.loads(older["body"])["minutes"] == 0


async def test_each_kind_of_people_facing_write_keeps_its_refusal(server: Server) -> None:
    async with (
        await server.client("admin", "A") as admin,
        await server.client("supervisor", "A") as sup,
    ):
        token = await admin.post("/api/v1/tokens", json={"role": "pilot", "agencies": ["A"]})
        session = await sup.post("/api/v1/training/sessions", json={"agency": "A", "trainee": ""})
        debrief = await sup.post("/api/v1/debriefs/A/NO-SUCH-CALL", json={"note": "x"})
        link = await admin.post("/api/v1/ems/reports/999999/link", json={"call_id": "C1"})
    answers = {
        "/api/v1/tokens": token,
        "/api/v1/training/sessions": session,
        "/api/v1/debriefs/A/NO-SUCH-CALL": debrief,
        "/api/v1/ems/reports/999999/link": link,
    }
    for endpoint, answer in answers.items():
        assert 400 <= answer.status_code < 500, (endpoint, answer.text)
    kept = {r["endpoint"]: r for r in await rejects(server)}
    for endpoint, answer in answers.items():
        assert endpoint in kept, f"the refusal of {endpoint} was not kept"
        assert kept[endpoint]["status"] == answer.status_code
    assert json.loads(kept["/api/v1/tokens"]["body"])["role"] == "pilot"
    assert kept["/api/v1/tokens"]["field"] == "role"
    assert json.loads(kept["/api/v1/debriefs/A/NO-SUCH-CALL"]["body"]) == {"note": "x"}


async def test_a_refusal_is_kept_under_the_senders_agency_not_the_one_it_names(
    server: Server,
) -> None:
    async with await server.client("supervisor", "B") as sup_b:
        refused = await sup_b.post("/api/v1/training/records", json=RECORD)  # agency A
    assert refused.status_code == 403
    route = "/api/v1/training/records"
    assert [r for r in await rejects(server, "A") if r["endpoint"] == route] == []
    kept = [r for r in await rejects(server, "B") if r["endpoint"] == route]
    assert [r["status"] for r in kept] == [403]
    assert json.loads(kept[0]["body"])["agency"] == "A"


async def test_reads_and_sign_ins_refused_are_not_kept(server: Server) -> None:
    async with await server.client("supervisor", "A") as sup:
        read = await sup.get("/api/v1/training/hours", params={"agency": "A", "as_of": "soon"})
        assert read.status_code == 422
        signin = await sup.post("/api/v1/session", json={"token": "tcpr_not-a-real-secret"})
        assert signin.status_code == 401
    kept = await rejects(server)
    assert [r for r in kept if r["endpoint"] == "/api/v1/training/hours"] == []
    assert not any("not-a-real-secret" in (r["body"] or "") for r in kept)
