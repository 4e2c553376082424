"""The access log: every read of an audit, list, measure, EMS report or export is written down
before it is served, and QI and admins review it by agency (service/store/access.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from support.harness import Server, at, event


async def a_call(server: Server, call_id: str = "C1", agency: str = "A") -> None:
    async with await server.client("adapter", agency) as adapter:
        response = await adapter.post(
            "/api/v1/events",
            json=[
                event(f"{call_id}-r", "call.received", at(300), call_id, agency),
                event(f"{call_id}-a", "call.answered", at(290), call_id, agency),
            ],
        )
        assert response.status_code == 200, response.text


async def access_log(server: Server, **params: Any) -> dict[str, Any]:
    async with await server.client("admin", "A") as admin:
        response = await admin.get("/api/v1/access-log", params={"agency": "A", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_reading_an_audit_writes_one_entry_naming_the_reader(server: Server) -> None:
    await a_call(server)
    async with await server.client("qi", "A") as qi:
        assert (await qi.get("/api/v1/calls/A/C1/audit")).status_code == 200
    entries = (await access_log(server))["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["action"] == "audit.read"
    assert entry["target"] == "C1"
    assert entry["principal"] == "qi:test-qi"
    assert entry["role"] == "qi"
    assert entry["client"] == "127.0.0.1"


async def test_a_refused_read_is_not_logged(server: Server) -> None:
    await a_call(server)
    async with await server.client("qi", "B") as foreign:
        assert (await foreign.get("/api/v1/calls/A/C1/audit")).status_code == 403
    async with await server.client("telecommunicator", "A") as console:
        assert (await console.get("/api/v1/calls/A/C1/audit")).status_code == 403
    assert (await access_log(server))["entries"] == []


READS = [
    ("/api/v1/audits", {"agency": "A"}, "audits.list"),
    ("/api/v1/exports/audits.csv", {"agency": "A", "call_id": "C1"}, "audits.export"),
    ("/api/v1/exports/audits.json", {"agency": "A"}, "audits.export"),
    ("/api/v1/measures", {"agency": "A", "from": "2020-01-01"}, "measures.read"),
    ("/api/v1/measures", {"agency": "A", "format": "csv"}, "measures.export"),
    ("/api/v1/measures/trend", {"agency": "A"}, "measures.read"),
    ("/api/v1/measures/telecommunicators", {"agency": "A"}, "measures.read"),
    ("/api/v1/measures/recognition", {"agency": "A"}, "measures.read"),
    ("/api/v1/exports/measures.csv", {"agency": "A"}, "measures.export"),
    ("/api/v1/exports/cares.csv", {"agency": "A"}, "measures.export"),
    ("/api/v1/ems/reports", {"agency": "A"}, "ems.reports.read"),
    ("/api/v1/exports/nemsis-linkage", {"agency": "A"}, "ems.linkage_export"),
    ("/api/v1/rejects", {"agency": "A"}, "rejects.read"),
]


@pytest.mark.parametrize(("path", "params", "action"), READS)
async def test_every_read_is_logged_with_its_query(
    server: Server, path: str, params: dict[str, str], action: str
) -> None:
    await a_call(server)
    async with await server.client("admin", "A") as admin:
        response = await admin.get(path, params=params)
    assert response.status_code in (200, 404), response.text  # 404: nothing to link
    (entry,) = (await access_log(server))["entries"]
    assert entry["action"] == action
    assert entry["target"] == str(response.request.url.query, "ascii")


async def test_a_set_of_agencies_is_logged_in_each_agencys_log(server: Server) -> None:
    async with await server.client("qi", "A", "B") as coordinator:
        response = await coordinator.get("/api/v1/measures", params={"agency": ["A", "B"]})
        assert response.status_code == 200
        for agency in ("A", "B"):
            log = await coordinator.get("/api/v1/access-log", params={"agency": agency})
            assert [e["action"] for e in log.json()["entries"]] == ["measures.read"]


async def test_a_foreign_agency_or_another_role_cannot_read_the_log(server: Server) -> None:
    for role, agency in (("admin", "B"), ("qi", "B"), ("supervisor", "A"), ("adapter", "A")):
        async with await server.client(role, agency) as client:
            response = await client.get("/api/v1/access-log", params={"agency": "A"})
        assert response.status_code == 403, (role, agency)
    async with await server.client("qi", "A") as qi:
        assert (await qi.get("/api/v1/access-log", params={"agency": "A"})).status_code == 200


async def test_pages_newest_first_and_filters(server: Server) -> None:
    await a_call(server, "C1")
    await a_call(server, "C2")
    async with await server.client("supervisor", "A") as supervisor:
        for call_id in ("C1", "C2", "C1", "C2", "C1"):
            assert (await supervisor.get(f"/api/v1/calls/A/{call_id}/audit")).status_code == 200
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await access_log(server, **params)
        seen += page["entries"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [e["target"] for e in seen] == ["C1", "C2", "C1", "C2", "C1"]
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids, reverse=True)
    only_c2 = await access_log(server, call_id="C2")
    assert [e["target"] for e in only_c2["entries"]] == ["C2", "C2"]
    assert (await access_log(server, principal="qi:nobody"))["entries"] == []
    assert len((await access_log(server, principal="supervisor:test-supervisor"))["entries"]) == 5
    assert (await access_log(server, **{"from": "2999-01-01"}))["entries"] == []
    async with await server.client("admin", "A") as admin:
        bad = await admin.get("/api/v1/access-log", params={"agency": "A", "cursor": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "cursor"


async def test_a_read_that_cannot_be_logged_is_refused(server: Server) -> None:
    """Fail closed: with the log's table gone, the audit is not served."""
    await a_call(server)
    async with server.services.sessions() as session, session.begin():
        await session.execute(text("DROP TABLE access_log"))
    async with await server.client("qi", "A") as qi:
        response = await qi.get("/api/v1/calls/A/C1/audit")
    assert response.status_code == 503
    assert "access log" in response.json()["detail"]
    assert "t0" not in response.text
