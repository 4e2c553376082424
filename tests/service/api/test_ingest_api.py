"""POST /api/v1/events: acknowledgement, idempotency, all-or-nothing batches, rejects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from support.harness import Server, at, event, service_settings, start_server

from service.store.tables import EventRow


async def stored_count(server: Server) -> int:
    async with server.services.store._sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(EventRow)) or 0)


async def test_healthz_needs_no_token(server: Server) -> None:
    async with await server.client() as client:
        response = await client.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_single_event_is_acknowledged_with_its_sequence(server: Server) -> None:
    async with await server.client() as client:
        response = await client.post("/api/v1/events", json=event("e1", "call.received", at(10)))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    assert body["results"] == [{"event_id": "e1", "status": "accepted", "seq": body["seq"]}]
    assert body["seq"] >= 1
    assert await stored_count(server) == 1


async def test_same_id_same_content_is_a_harmless_duplicate(server: Server) -> None:
    e = event("e1", "call.received", "2026-01-15T14:00:00-05:00", data={"psap": "P1"})
    async with await server.client() as client:
        first = (await client.post("/api/v1/events", json=e)).json()
        # Same content written differently (key order, same offset) is still the same event.
        again = await client.post("/api/v1/events", content=json.dumps(dict(reversed(e.items()))))
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["seq"] == first["seq"]
    assert await stored_count(server) == 1


async def test_same_id_other_content_is_409_and_kept(server: Server) -> None:
    async with await server.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", at(10)))
        response = await client.post("/api/v1/events", json=event("e1", "call.ended", at(5)))
    assert response.status_code == 409
    assert response.json()["field"] == "event_id"
    assert "e1" in response.json()["detail"]
    assert await stored_count(server) == 1
    async with await server.client("admin") as admin:
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert rejects[0]["status"] == 409
    assert json.loads(rejects[0]["body"])["kind"] == "call.ended"


async def test_batch_is_all_or_nothing(server: Server) -> None:
    good = [event(f"e{i}", "call.received", at(10), call_id=f"C{i}") for i in range(3)]
    bad = {**good[2], "event_id": "e9", "at": "2026-01-15T14:00:00"}  # naive time
    async with await server.client() as client:
        refused = await client.post("/api/v1/events", json=[*good[:2], bad])
        assert refused.status_code == 422
        assert refused.json()["field"] == "at"
        assert refused.json()["detail"].startswith("event 2:")
        assert await stored_count(server) == 0

        await client.post("/api/v1/events", json=good[0])
        conflicting = {**good[0], "kind": "call.ended"}
        refused = await client.post("/api/v1/events", json=[good[1], conflicting])
        assert refused.status_code == 409
        assert await stored_count(server) == 1  # good[1] was not stored either

        accepted = await client.post("/api/v1/events", json=good)
    assert accepted.status_code == 200
    assert [r["status"] for r in accepted.json()["results"]] == [
        "duplicate",
        "accepted",
        "accepted",
    ]
    assert await stored_count(server) == 3


async def test_repeated_id_inside_one_batch(server: Server) -> None:
    e = event("e1", "call.received", at(10))
    async with await server.client() as client:
        same = await client.post("/api/v1/events", json=[e, e])
        assert [r["status"] for r in same.json()["results"]] == ["accepted", "duplicate"]
        assert same.json()["results"][0]["seq"] == same.json()["results"][1]["seq"]
        other = await client.post(
            "/api/v1/events",
            json=[event("e2", "call.received", at(9)), event("e2", "call.ended", at(1))],
        )
    assert other.status_code == 409
    assert await stored_count(server) == 1


BAD_EVENTS: list[tuple[str, Any, str]] = [
    ("naive time", {"at": "2026-01-15T14:00:00"}, "at"),
    ("date only", {"at": "2026-01-15"}, "at"),
    ("epoch number", {"at": 1768503600}, "at"),
    ("impossible date", {"at": "2026-02-30T10:00:00Z"}, "at"),
    ("unknown kind", {"kind": "call.exploded"}, "kind"),
    ("missing id", {"event_id": None}, "event_id"),
    ("empty id", {"event_id": ""}, "event_id"),
    ("long id", {"event_id": "x" * 129}, "event_id"),
    ("missing call", {"call_id": None}, "call_id"),
    ("long agency", {"agency": "A" * 33}, "agency"),
    ("bad source", {"source": "radio"}, "source"),
    ("unknown field", {"timestamp": "2026-01-15T14:00:00Z"}, "timestamp"),
    ("bad answer", {"kind": "triage.breathing", "data": {"answer": "maybe"}}, "data.answer"),
    ("no answer", {"kind": "triage.conscious", "data": {}}, "data.answer"),
    ("bad reason", {"kind": "tcpr.not_given", "data": {"reason": "lazy"}}, "data.reason"),
    ("ems not bool", {"kind": "ems.outcome", "data": {"ohca": "yes"}}, "data.ohca"),
    ("before year 1 in UTC", {"at": "0001-01-01T00:00:00+05:00"}, "at"),
    ("after year 9999 in UTC", {"at": "9999-12-31T23:59:59-05:00"}, "at"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_EVENTS, ids=[c[0] for c in BAD_EVENTS])
async def test_invalid_event_is_422_naming_the_field(
    server: Server, case: str, change: dict[str, Any], field: str
) -> None:
    e = event("e1", "call.received", "2026-01-15T14:00:00Z")
    e.update(change)
    e = {k: v for k, v in e.items() if v is not None}
    async with await server.client("admin") as client:
        response = await client.post("/api/v1/events", json=e)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert field in response.json()["detail"]
        rejects = (await client.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert rejects[0]["status"] == 422
    assert rejects[0]["field"] == field
    assert json.loads(rejects[0]["body"]) == e
    assert await stored_count(server) == 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"event_id": "e1",', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "empty array"),
        (b'"call.received"', "event object"),
        (b"[1]", "not a JSON object"),
    ],
)
async def test_malformed_body_is_422_and_kept_raw(server: Server, body: bytes, needle: str) -> None:
    async with await server.client("admin") as client:
        response = await client.post("/api/v1/events", content=body)
        assert response.status_code == 422
        assert needle in response.json()["detail"]
        rejects = (await client.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert rejects[0]["body"] == body.decode("utf-8", errors="replace")


async def test_missing_or_wrong_token_is_401_and_kept(server: Server) -> None:
    e = event("e1", "call.received", at(5))
    async with await server.client() as client:
        none = await client.post("/api/v1/events", json=e, headers={"Authorization": ""})
        wrong = await client.post(
            "/api/v1/events", json=e, headers={"Authorization": "Bearer tcpr_not-a-token"}
        )
    assert none.status_code == wrong.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    assert await stored_count(server) == 0
    async with await server.client("admin") as admin:
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert [r["status"] for r in rejects] == [401, 401]
    assert rejects[0]["principal"] is None


async def test_other_agency_is_403_and_kept_for_the_senders_agency(server: Server) -> None:
    async with await server.client("adapter", "A") as client:
        response = await client.post(
            "/api/v1/events", json=event("e1", "call.received", at(5), agency="B")
        )
    assert response.status_code == 403
    assert response.json()["field"] == "agency"
    assert await stored_count(server) == 0
    async with await server.client("admin", "A") as admin:
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert rejects[0]["status"] == 403


async def test_body_over_the_limit_is_413(server: Server) -> None:
    huge = [event(f"e{i}", "call.received", at(5), data={"psap": "x" * 2000}) for i in range(600)]
    async with await server.client() as client:
        response = await client.post("/api/v1/events", json=huge)
    assert response.status_code == 413
    assert response.json()["field"] == "body"


async def test_a_body_over_the_limit_is_kept_in_the_reject_store(sqlite_url: str) -> None:
    """Declared too large (refused before reading) or streamed past the limit: 413 either way,
    and the refusal is kept, with who sent it, like any other."""
    server = await start_server(service_settings(sqlite_url, max_body_bytes=1000))
    big = json.dumps(event("e1", "call.received", at(5), data={"psap": "x" * 2000}))

    async def streamed() -> Any:
        for i in range(0, len(big), 300):
            yield big[i : i + 300].encode()

    try:
        async with await server.client() as client:
            declared = await client.post("/api/v1/events", content=big)
            chunked = await client.post("/api/v1/events", content=streamed())
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        for response in (declared, chunked):
            assert response.status_code == 413
            assert response.json()["field"] == "body"
            assert "1000-byte limit" in response.json()["detail"]
        kept = await server.services.rejects.newest("A")
        assert [(r["status"], r["endpoint"], r["principal"]) for r in kept] == [
            (413, "/api/v1/events", "adapter:test-adapter")
        ] * 2
        assert await stored_count(server) == 0
    finally:
        await server.stop()


async def test_source_offset_is_kept(server: Server) -> None:
    async with await server.client() as client:
        await client.post(
            "/api/v1/events", json=event("e1", "call.received", "2026-01-15T14:00:00.250-05:00")
        )
    events = await server.services.store.call_events("A", "C1")
    assert events[0].at.isoformat() == "2026-01-15T14:00:00.250000-05:00"


async def test_a_failed_announcement_does_not_refuse_committed_events(server: Server) -> None:
    """The broker carries latency only: if telling the live views fails after the commit, the
    events are still acknowledged, and the live view catches up from the log."""
    store = server.services.store
    announce = store.on_commit

    async def broken(*_: object) -> None:
        raise ConnectionError("broker down")

    store.on_commit = broken
    try:
        async with await server.client() as client:
            response = await client.post("/api/v1/events", json=event("e1", "call.received", at(5)))
        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
    finally:
        store.on_commit = announce
    await server.services.live.catch_up()
    assert ("A", "C1") in server.services.live.calls
