"""What the fuzzing (test_fuzz_api.py) found, each case pinned: a 4xx naming the field, never a
5xx, on SQLite and PostgreSQL (which refuses a NUL in text and NaN in JSON). One server per
test: each walks its cases and reports every wrong one at once."""

from __future__ import annotations

import json
from typing import Any

from support.harness import Server, at, event

DEEP = {"deep": json.loads("[" * 40 + "0" + "]" * 40)}
# (what replaces fields of a valid event, the field the refusal must name)
BAD_EVENTS: list[tuple[dict[str, Any], str]] = [
    ({"event_id": "e\x00"}, "event_id"),
    ({"call_id": "C\x00"}, "call_id"),
    ({"actor": "\x00"}, "actor"),
    ({"data": {"x": [1, float("nan")]}}, "data.x[1]"),
    ({"data": {"x": float("inf")}}, "data.x"),
    ({"data": {"\ud800": 1}}, "data.\\ud800"),
    ({"data": DEEP}, "data.deep" + "[0]" * 32),
]


async def _post(server: Server, path: str, body: bytes) -> tuple[int, Any]:
    async with await server.client("admin") as client:
        response = await client.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
    return response.status_code, response.json()


async def _newest_reject(server: Server) -> dict[str, Any]:
    async with await server.client("admin") as admin:
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    reject: dict[str, Any] = rejects[0]
    return reject


async def test_bodies_the_stores_cannot_keep_are_refused_naming_the_field(server: Server) -> None:
    wrong = []
    for path in ("/api/v1/events", "/api/v1/eido"):
        status, body = await _post(server, path, b"\x00")
        if (status, body.get("field")) != (422, "body"):
            wrong.append((path, "NUL body", status, body))
        elif (await _newest_reject(server))["body"] != "\ufffd":
            wrong.append((path, "NUL body not kept", await _newest_reject(server)))
    status, body = await _post(server, "/api/v1/events", b"[" * 100_000 + b"]" * 100_000)
    if status != 422 or "nested too deeply" not in body["detail"]:
        wrong.append(("deep JSON", status, body))
    for change, field in BAD_EVENTS:
        raw = json.dumps({**event("e1", "call.received", at(10)), **change})
        status, body = await _post(server, "/api/v1/events", raw.encode("utf-8", "surrogatepass"))
        if (status, body.get("field")) != (422, field):
            wrong.append((change, status, body))
    # An EIDO key with a lone surrogate: refused, and kept with its long field name cut.
    status, body = await _post(server, "/api/v1/eido", ('{"' + "k" * 300 + '\\ud800": 1}').encode())
    if status != 422 or len((await _newest_reject(server))["field"]) != 256:
        wrong.append(("long EIDO key", status, body))
    assert not wrong, wrong


async def test_a_nul_in_the_url_is_refused_naming_where(server: Server) -> None:
    urls = {
        "/api/v1/audits?agency=A&call_id=%00": "call_id",
        "/api/v1/audits?agency=A&telecommunicator=x%00": "telecommunicator",
        "/api/v1/calls/A/C%00/audit": "path",
    }
    wrong = []
    async with await server.client("admin") as client:
        for url, field in urls.items():
            response = await client.get(url)
            if response.status_code != 422 or response.json()["field"] != field:
                wrong.append((url, response.status_code, response.text))
        # A link body's call id is checked like an event's.
        response = await client.post("/api/v1/ems/reports/1/link", json={"call_id": "C\x00"})
        if response.status_code != 422 or response.json()["detail"][0]["loc"] != [
            "body",
            "call_id",
        ]:
            wrong.append(("link", response.status_code, response.text))
    assert not wrong, wrong


async def test_a_control_character_for_the_linkage_extract_is_refused(server: Server) -> None:
    # Written into the extract's XML, which cannot carry one: it was a 500.
    async with await server.client("qi") as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", at(0)))
        response = await client.get(
            "/api/v1/exports/nemsis-linkage", params={"agency": "A", "ems_agency": "\x1fX"}
        )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "ems_agency"]
