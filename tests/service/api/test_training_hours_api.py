"""Continuing-education hours over HTTP, on SQLite and PostgreSQL: a supervisor enters a
hand-made history, the hours and statuses come back exact as of a date, a telecommunicator reads
only their own line, training needs come from reviewed reasons, a mis-entered record is removed
with a trail, and the centre's CSVs hold both the people and the records."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from support.harness import FakeClock, Server, event, service_settings, start_server

from service.store.tables import TrainingRecordRow

AS_OF = "2026-03-15T12:00:00+00:00"


async def named(server: Server, role: str, name: str, *agencies: str) -> httpx.AsyncClient:
    token = await server.services.tokens.create(role, list(agencies or ("A",)), name)
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def record(person: str, category: str, minutes: int, taken_at: str, **more: Any) -> dict[str, Any]:
    return {
        "agency": "A",
        "person": person,
        "category": category,
        "kind": "classroom",
        "title": f"{category} T-CPR",
        "minutes": minutes,
        "taken_at": taken_at,
        **more,
    }


# By hand, as of 15 March 2026 noon UTC (agency A keeps UTC):
HISTORY = [
    # ana: 4 h initial; CE 60 min exactly 12 months ago (out) + 60 + 60 = 120: compliant, and
    # the 16 March 2025 hour leaves tomorrow: due within 30 days.
    record("ana", "initial", 240, "2024-01-10"),
    record("ana", "continuing", 60, "2025-03-15T12:00:00+00:00"),
    record("ana", "continuing", 60, "2025-03-16T12:00:00Z", kind="online"),
    record("ana", "continuing", 60, "2025-09-01"),
    # cal: 2 h of initial training only.
    record("cal", "initial", 120, "2026-02-01"),
    # eve: 3 h of CE, all 14 months ago.
    record("eve", "initial", 240, "2024-02-01"),
    record("eve", "continuing", 180, "2025-01-01"),
    # dee: new hire, initial complete 8 November 2025: not yet due.
    record("dee", "initial", 180, "2025-11-08", kind="other"),
]


def reviewed_call(call_id: str, tc: str, nonrecognition: list[str], delay: list[str]) -> list[Any]:
    t0 = "2026-02-03T10:00:00+00:00"
    return [
        event(f"{call_id}-r", "call.received", t0, call_id, data={"psap": "P1"}),
        event(f"{call_id}-a", "call.answered", "2026-02-03T10:00:05+00:00", call_id, actor=tc),
        event(f"{call_id}-e", "call.ended", "2026-02-03T10:09:00+00:00", call_id),
        event(
            f"{call_id}-q", "qi.review", "2026-02-04T10:00:00+00:00", call_id, source="qi",
            actor="rev-1",
            data={"recognizable": True, "signed_off": True,
                  "nonrecognition_reasons": nonrecognition, "delay_reasons": delay},
        ),
    ]  # fmt: skip


async def seed(server: Server) -> None:
    """The history, a telecommunicator token with no training (tc-new), a supervisor who
    answered a call (sup-7), and agency B's own person."""
    await server.services.tokens.create("telecommunicator", ["A"], "tc-new")
    await server.services.tokens.create("telecommunicator", ["B"], "b-only")
    revoked, _ = await server.services.tokens.issue("telecommunicator", ["A"], "gone")
    await server.services.tokens.revoke(revoked.id)
    async with (
        await server.client("supervisor", "A") as sup,
        await server.client("admin", "A", "B") as admin,
    ):
        for body in HISTORY:
            response = await sup.post("/api/v1/training/records", json=body)
            assert response.status_code == 201, response.text
        calls = [
            *reviewed_call(
                "R1", "ana", ["agonal_breathing_reported_as_breathing"], ["call_transfer"]
            ),
            *reviewed_call("R2", "ana", ["signs_of_life_reported"], []),
            *reviewed_call("R3", "sup-7", [], ["language_barrier"]),
        ]
        assert (await admin.post("/api/v1/events", json=calls)).status_code == 200
        b = record("b-only", "initial", 240, "2025-01-01", agency="B")
        assert (await admin.post("/api/v1/training/records", json=b)).status_code == 201


async def test_hours_and_compliance_of_a_hand_made_history(server: Server) -> None:
    await seed(server)
    async with await server.client("qi", "A") as qi:
        response = await qi.get("/api/v1/training/hours", params={"agency": "A", "as_of": AS_OF})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == AS_OF and body["rule"]["continuing_minimum_minutes"] == 120
    people = {p["person"]: p for p in body["people"]}
    # tc-new (a token, no hours) and sup-7 (answered a call) are listed, not missing; agency
    # B's person and the revoked token's are not.
    assert set(people) == {"ana", "cal", "eve", "dee", "tc-new", "sup-7"}
    got = {
        name: (p["status"], p["initial_minutes"], p["continuing_minutes"], p["due_soon"])
        for name, p in people.items()
    }
    assert got == {
        "ana": ("compliant", 240, 120, 30),
        "cal": ("initial_incomplete", 120, 0, None),
        "eve": ("ce_due", 240, 180 - 180, None),
        "dee": ("compliant", 180, 0, None),
        "tc-new": ("initial_incomplete", 0, 0, None),
        "sup-7": ("initial_incomplete", 0, 0, None),
    }
    assert people["ana"]["continuing_due_on"] == "2026-03-16T12:00:00+00:00"
    assert people["dee"]["continuing_not_yet_due"] is True
    assert people["dee"]["continuing_required_from"] == "2026-11-08T00:00:00+00:00"
    # Out of compliance first, then due soon, then the rest; names in order within.
    assert [p["person"] for p in body["people"]] == ["cal", "sup-7", "tc-new", "eve", "ana", "dee"]
    assert body["counts"] == {
        "people": 6, "initial_incomplete": 3, "ce_due": 1, "compliant": 2,
        "out_of_compliance": 4, "due_within_30_days": 1, "due_within_60_days": 1,
    }  # fmt: skip
    ana = people["ana"]
    assert [(r["minutes"], r["kind"], r["entered_by"]) for r in ana["records"]] == [
        (240, "classroom", "supervisor:test-supervisor"),
        (60, "classroom", "supervisor:test-supervisor"),
        (60, "online", "supervisor:test-supervisor"),
        (60, "classroom", "supervisor:test-supervisor"),
    ]
    # Training needs from the reasons of ana's reviewed calls.
    suggestions = ana["needs"]["suggestions"]
    assert [(s["scenario"], s["count"]) for s in suggestions] == [
        ("agonal_breathing", 2),
        ("transfer", 1),
    ]
    assert {r["code"] for r in suggestions[0]["reasons"]} == {
        "agonal_breathing_reported_as_breathing",
        "signs_of_life_reported",
    }
    assert ana["needs"]["reviewed_calls"] == 2
    assert people["sup-7"]["needs"]["suggestions"][0]["scenario"] == "spanish_caller"


async def test_a_telecommunicator_reads_only_their_own_line(server: Server) -> None:
    await seed(server)
    async with await named(server, "telecommunicator", "ana") as ana:
        own = await ana.get("/api/v1/training/hours", params={"agency": "A", "as_of": AS_OF})
        assert own.status_code == 200, own.text
        assert [p["person"] for p in own.json()["people"]] == ["ana"]
        same = await ana.get("/api/v1/training/hours", params={"agency": "A", "person": "ana"})
        assert same.status_code == 200
        other = await ana.get("/api/v1/training/hours", params={"agency": "A", "person": "eve"})
        assert other.status_code == 403
        for path in ("/api/v1/training/summary", "/api/v1/exports/training.csv"):
            assert (await ana.get(path, params={"agency": "A"})).status_code == 403
        entered = await ana.post(
            "/api/v1/training/records", json=record("ana", "initial", 60, "2026-01-01")
        )
        assert entered.status_code == 403
    async with await server.client("telecommunicator", "A") as nobody:
        # A token with a name that has no training: its own empty line.
        lines = (await nobody.get("/api/v1/training/hours", params={"agency": "A"})).json()
        assert [(p["person"], p["status"]) for p in lines["people"]] == [
            ("test-telecommunicator", "initial_incomplete")
        ]


async def test_roles_agencies_and_authentication(server: Server) -> None:
    await seed(server)
    hours = {"agency": "A"}
    async with (
        await server.client("adapter", "A") as adapter,
        await server.client("admin", "B") as foreign,
        await server.client("qi", "A") as qi,
        await server.client("supervisor", "A") as sup,
        httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous,
    ):
        for path in (
            "/api/v1/training/hours",
            "/api/v1/training/summary",
            "/api/v1/exports/training.csv",
        ):
            assert (await adapter.get(path, params=hours)).status_code == 403, path
            assert (await foreign.get(path, params=hours)).status_code == 403, path
            assert (await anonymous.get(path, params=hours)).status_code == 401, path
            assert (await sup.get(path, params=hours)).status_code == 200, path
        body = record("cal", "initial", 60, "2026-02-02")
        assert (await qi.post("/api/v1/training/records", json=body)).status_code == 403
        assert (await foreign.post("/api/v1/training/records", json=body)).status_code == 403
        assert (await anonymous.post("/api/v1/training/records", json=body)).status_code == 401
        summary = (await sup.get("/api/v1/training/summary", params=hours)).json()
        # The board's counts (as of now) are those of the hours, without anyone's name.
        now = (await sup.get("/api/v1/training/hours", params=hours)).json()["counts"]
        assert {k: v for k, v in summary.items() if k not in ("agency", "as_of")} == now
        assert now["people"] >= 4 and now["out_of_compliance"] >= 2  # cal and tc-new at least
        assert "ana" not in json.dumps(summary)


async def test_entering_training_refuses_bad_fields_by_name(server: Server) -> None:
    good = record("cal", "initial", 60, "2026-02-02")
    cases = {
        "minutes": [{**good, "minutes": 0}, {**good, "minutes": 961}, {**good, "minutes": "60"}],
        "kind": [{**good, "kind": "session"}],
        "category": [{**good, "category": "refresher"}],
        "taken_at": [{**good, "taken_at": "2099-01-01"}, {**good, "taken_at": "yesterday"},
                     {**good, "taken_at": "2026-02-02T10:00:00"}],
        "person": [{**good, "person": "  "}, {k: v for k, v in good.items() if k != "person"}],
        "title": [{**good, "title": ""}],
        "agency": [{**good, "agency": ""}],
        "entered_by": [{**good, "entered_by": "someone else"}],
    }  # fmt: skip
    async with await server.client("supervisor", "A") as sup:
        for field, bodies in cases.items():
            for body in bodies:
                response = await sup.post("/api/v1/training/records", json=body)
                assert response.status_code == 422, (field, body, response.text)
                assert field in response.text, (field, response.text)
        stored = await sup.post("/api/v1/training/records", json={**good, "minutes": 960})
        assert stored.status_code == 201
        assert stored.json()["taken_at"] == "2026-02-02T00:00:00+00:00"


async def test_removing_a_mis_entered_record_keeps_a_trail(server: Server) -> None:
    async with (
        await server.client("supervisor", "A") as sup,
        await server.client("qi", "A") as qi,
        await server.client("admin", "B") as foreign,
    ):
        wrong = (
            await sup.post(
                "/api/v1/training/records", json=record("cal", "continuing", 600, "2026-02-02")
            )
        ).json()
        path = f"/api/v1/training/records/{wrong['id']}"
        assert (await qi.delete(path)).status_code == 403
        assert (await foreign.delete(path)).status_code == 403
        removed = await sup.delete(path, params={"reason": "600 was meant to be 60"})
        assert removed.status_code == 204, removed.text
        assert (await sup.delete(path)).status_code == 404
        lines = (
            await sup.get("/api/v1/training/hours", params={"agency": "A", "person": "cal"})
        ).json()
        assert lines["people"][0]["records"] == []
        # The session's own record is kept with its session.
        async with server.services.sessions() as session, session.begin():
            row = TrainingRecordRow(
                agency="A", person="cal", category="initial", kind="session",
                title="Session 1", minutes=45, taken_at=datetime(2026, 2, 1, tzinfo=UTC),
                session_id=1, entered_by="supervisor:trainer", entered_at=datetime.now(UTC),
            )  # fmt: skip
            session.add(row)
            await session.flush()
            session_record = row.id
        refused = await sup.delete(f"/api/v1/training/records/{session_record}")
        assert refused.status_code == 409
        log = (await qi.get("/api/v1/access-log", params={"agency": "A"})).json()
    removal = next(e for e in log["entries"] if e["action"] == "training.record.remove")
    kept = json.loads(removal["target"])
    assert removal["principal"] == "supervisor:test-supervisor"
    assert (kept["person"], kept["minutes"], kept["reason"]) == (
        "cal",
        600,
        "600 was meant to be 60",
    )
    assert kept["entered_by"] == "supervisor:test-supervisor"
    assert any(e["action"] == "training.record.enter" for e in log["entries"])


async def test_the_centres_csvs(server: Server) -> None:
    await seed(server)
    async with await server.client("supervisor", "A") as sup:
        people = await sup.get(
            "/api/v1/exports/training.csv", params={"agency": "A", "as_of": AS_OF}
        )
        records = await sup.get(
            "/api/v1/exports/training.csv",
            params={"agency": "A", "view": "records", "as_of": AS_OF},
        )
        bad = await sup.get("/api/v1/exports/training.csv", params={"agency": "A", "view": "all"})
    assert bad.status_code == 422
    assert people.status_code == 200 and people.headers["content-type"].startswith("text/csv")
    assert 'filename="training-people_A_2026-03-15.csv"' in people.headers["content-disposition"]
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(people.text))}
    assert set(rows) == {"ana", "cal", "eve", "dee", "tc-new", "sup-7"}
    ana = rows["ana"]
    assert (ana["status"], ana["initial_hours"], ana["continuing_hours_12_months"]) == (
        "compliant", "4.00", "2.00",
    )  # fmt: skip
    assert (ana["continuing_due_on"], ana["due_within_days"]) == ("2026-03-16", "30")
    assert ana["suggested_scenarios"] == "agonal_breathing;transfer"
    assert rows["dee"]["continuing_required_from"] == "2026-11-08"
    assert rows["cal"]["status"] == "initial_incomplete" and rows["cal"]["initial_hours"] == "2.00"
    assert 'filename="training-records_A_2026-03-15.csv"' in records.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(records.text)))
    assert len(lines) == len(HISTORY)
    assert {(r["person"], r["minutes"], r["hours"]) for r in lines} >= {("eve", "180", "3.00")}
    assert all(r["entered_by"] == "supervisor:test-supervisor" for r in lines)


async def test_now_is_the_services_clock(migrated_database_url: str) -> None:
    """ "Now" (a record in the future, hours as of now) is the service's clock, as a session's
    credited time is: never the host's wall clock beside it."""
    clock = FakeClock(datetime(2031, 1, 10, 12, tzinfo=UTC))
    server = await start_server(service_settings(migrated_database_url), clock=clock)
    try:
        supervisor = await named(server, "supervisor", "sgt", "A")
        async with supervisor:
            entered = await supervisor.post(
                "/api/v1/training/records", json=record("kim", "initial", 180, "2030-06-01")
            )
            assert entered.status_code == 201, entered.text
            future = record("kim", "continuing", 60, "2031-02-01")
            refused = await supervisor.post("/api/v1/training/records", json=future)
            assert refused.status_code == 422 and "taken_at" in refused.text
            hours = (await supervisor.get("/api/v1/training/hours", params={"agency": "A"})).json()
            assert hours["as_of"] == clock.now.isoformat()
            assert [p["person"] for p in hours["people"]] == ["kim"]
    finally:
        await server.stop()
