"""Debriefs over HTTP (issue 19): the calls that need one, listed by state, marked done by a
supervisor at the service clock; roles and agencies enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from support.harness import FakeClock, Server, event, service_settings, start_server

NOW = datetime(2026, 2, 6, 14, 30, tzinfo=UTC)
OUTCOME = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}


@pytest.fixture
async def clocked(migrated_database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(migrated_database_url), clock=FakeClock(NOW))
    try:
        yield running
    finally:
        await running.stop()


def arrest(
    call_id: str,
    t0: str,
    tc: str,
    *,
    recognised: int | None = None,
    compression: int | None = None,
    outcome: dict[str, Any] | None = None,
    agency: str = "A",
) -> list[dict[str, Any]]:
    """A call received at `t0` (hh:mm on 2026-02-03), answered by `tc`, recognised and
    compressing `recognised` / `compression` seconds in, with an EMS outcome."""
    base = datetime.fromisoformat(f"2026-02-03T{t0}:00+00:00")

    def when(seconds: int) -> str:
        return datetime.fromtimestamp(base.timestamp() + seconds, UTC).isoformat()

    out = [
        event(f"{call_id}-r", "call.received", when(0), call_id, agency),
        event(f"{call_id}-a", "call.answered", when(5), call_id, agency, actor=tc),
    ]
    if recognised is not None:
        out.append(event(f"{call_id}-o", "ohca.recognized", when(recognised), call_id, agency,
                         source="console", actor=tc))  # fmt: skip
    if compression is not None:
        out.append(event(f"{call_id}-f", "tcpr.first_compression", when(compression), call_id,
                         agency, source="console", actor=tc))  # fmt: skip
    out.append(event(f"{call_id}-e", "call.ended", when(600), call_id, agency))
    out.append(event(f"{call_id}-x", "ems.outcome", when(3600), call_id, agency, source="ems",
                     data={**OUTCOME, **(outcome or {})}))  # fmt: skip
    return out


async def named(server: Server, role: str, name: str, *agencies: str) -> httpx.AsyncClient:
    token = await server.services.tokens.create(role, list(agencies or ("A",)), name)
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def seed(server: Server) -> None:
    adapter = await server.client("adapter", "A", "B")
    async with adapter:
        posted = [
            *arrest("N1", "10:00", "tc-1"),  # never recognised
            *arrest("L1", "11:00", "tc-2", recognised=100, compression=140),  # late recognition
            *arrest("B2", "12:00", "tc-2", recognised=95, compression=200),  # both late
            *arrest("OK", "13:00", "tc-1", recognised=40, compression=120),  # in time
            *arrest("W1", "14:00", "tc-1", outcome={"ems_witnessed": True}),  # EMS witnessed
            *arrest("NA", "15:00", "tc-1", outcome={"ohca": False}),  # not an arrest
            *arrest("BN", "10:00", "tc-9", agency="B"),
        ]
        response = await adapter.post("/api/v1/events", json=posted)
        assert response.status_code == 200, response.text


async def test_supervisor_lists_and_marks_debriefs_done(clocked: Server) -> None:
    await seed(clocked)
    sup = await named(clocked, "supervisor", "Sgt. Ruiz", "A")
    qi = await named(clocked, "qi", "qi-1", "A")
    async with sup, qi:
        response = await sup.get("/api/v1/debriefs", params={"agency": "A"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["counts"] == {"outstanding": 3, "done": 0}
        listed = [(d["call_id"], d["reasons"], d["telecommunicator"]) for d in body["debriefs"]]
        assert listed == [  # newest first
            ("B2", ["recognition_late", "compression_late"], "tc-2"),
            ("L1", ["recognition_late"], "tc-2"),
            ("N1", ["never_recognised"], "tc-1"),
        ]
        l1 = body["debriefs"][1]
        assert l1["t0"] == "2026-02-03T11:00:00+00:00"
        assert l1["intervals"] == {"to_recognition": 100.0, "to_first_compression": 140.0}
        assert l1["benchmarks"] == {"recognition_met": False, "first_compression_met": True}
        assert l1["outstanding"] is True and l1["done_by"] is None

        # QI reads the list too, but the supervisor holds the debrief.
        assert (await qi.get("/api/v1/debriefs", params={"agency": "A"})).status_code == 200
        assert (await qi.post("/api/v1/debriefs/A/L1", json={})).status_code == 403

        marked = await sup.post("/api/v1/debriefs/A/L1", json={"note": "  Talked through it. "})
        assert marked.status_code == 201, marked.text
        done = marked.json()
        assert (done["done_by"], done["done_at"], done["note"]) == (
            "Sgt. Ruiz",
            NOW.isoformat(),
            "Talked through it.",
        )
        assert done["outstanding"] is False

        # A second mark changes nothing and says who held it.
        again = await sup.post("/api/v1/debriefs/A/L1", json={"note": "twice"})
        assert again.status_code == 409
        assert again.json()["field"] == "call_id"
        assert again.json()["debrief"] == {
            "done_by": "Sgt. Ruiz",
            "done_at": NOW.isoformat(),
            "note": "Talked through it.",
        }

        # Without a body at all.
        assert (await sup.post("/api/v1/debriefs/A/N1")).status_code == 201

        outstanding = (await sup.get("/api/v1/debriefs", params={"agency": "A"})).json()
        assert [d["call_id"] for d in outstanding["debriefs"]] == ["B2"]
        assert outstanding["counts"] == {"outstanding": 1, "done": 2}
        done_list = (
            await sup.get("/api/v1/debriefs", params={"agency": "A", "state": "done"})
        ).json()
        assert [(d["call_id"], d["done_by"], d["note"]) for d in done_list["debriefs"]] == [
            ("L1", "Sgt. Ruiz", "Talked through it."),
            ("N1", "Sgt. Ruiz", None),
        ]
        everything = (
            await sup.get("/api/v1/debriefs", params={"agency": "A", "state": "all"})
        ).json()
        assert [d["call_id"] for d in everything["debriefs"]] == ["B2", "L1", "N1"]
        period = await sup.get(
            "/api/v1/debriefs",
            params={"agency": "A", "state": "all", "from": "2026-02-03T10:30:00Z",
                    "to": "2026-02-03T11:30:00Z"},
        )  # fmt: skip
        assert [d["call_id"] for d in period.json()["debriefs"]] == ["L1"]
        assert period.json()["counts"] == {"outstanding": 0, "done": 1}


async def test_calls_that_need_no_debrief_are_refused(server: Server) -> None:
    await seed(server)
    sup = await named(server, "supervisor", "sup-1", "A")
    async with sup:
        for call_id in ("OK", "W1", "NA"):
            response = await sup.post(f"/api/v1/debriefs/A/{call_id}", json={})
            assert response.status_code == 409, call_id
            assert response.json()["detail"]["field"] == "call_id"
        missing = await sup.post("/api/v1/debriefs/A/NOPE", json={})
        assert missing.status_code == 404
        # B's call is not found under A's name either.
        assert (await sup.post("/api/v1/debriefs/A/BN", json={})).status_code == 404
        for params, field in (
            ({"agency": "A", "state": "maybe"}, "state"),
            ({"agency": "A", "from": "yesterday"}, "from"),
            ({"agency": "A", "limit": "0"}, "limit"),
        ):
            bad = await sup.get("/api/v1/debriefs", params=params)
            assert bad.status_code == 422
            assert bad.json()["detail"]["field"] == field
        long_note = await sup.post("/api/v1/debriefs/A/N1", json={"note": "x" * 2001})
        assert long_note.status_code == 422
        unknown = await sup.post("/api/v1/debriefs/A/N1", json={"notes": "typo"})
        assert unknown.status_code == 422


async def test_roles_and_agencies(server: Server) -> None:
    await seed(server)
    tc = await server.client("telecommunicator", "A")
    adapter = await server.client("adapter", "A")
    sup_b = await server.client("supervisor", "B")
    admin = await named(server, "admin", "admin-1", "A")
    anonymous = httpx.AsyncClient(base_url=server.url, timeout=30)
    async with tc, adapter, sup_b, admin, anonymous:
        for client in (tc, adapter, sup_b):
            listed = await client.get("/api/v1/debriefs", params={"agency": "A"})
            assert listed.status_code == 403
            assert (await client.post("/api/v1/debriefs/A/N1", json={})).status_code == 403
        assert (await anonymous.get("/api/v1/debriefs", params={"agency": "A"})).status_code == 401
        assert (await anonymous.post("/api/v1/debriefs/A/N1", json={})).status_code == 401
        # Agency B's supervisor sees B's own.
        own = (await sup_b.get("/api/v1/debriefs", params={"agency": "B"})).json()
        assert [d["call_id"] for d in own["debriefs"]] == ["BN"]
        # An admin may hold one; each list read is in the access log.
        assert (await admin.get("/api/v1/debriefs", params={"agency": "A"})).status_code == 200
        assert (await admin.post("/api/v1/debriefs/A/N1", json={})).status_code == 201
        log = await admin.get("/api/v1/access-log", params={"agency": "A"})
        assert log.status_code == 200, log.text
        assert "debriefs.list" in log.text
