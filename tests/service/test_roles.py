"""Who may do what (DESIGN.md §8): every role, and a token of another agency, against every action.

Each test walks a whole matrix on one server and reports every wrong cell at once.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets
from harness import Server, at, event
from sqlalchemy import select

from service.store.tables import TokenRow

ROLES = ("telecommunicator", "supervisor", "qi", "admin", "adapter")
FOREIGN = "admin of agency B"  # the strongest role, but for another agency
PRINCIPALS = (*ROLES, FOREIGN)

# One valid event of every kind of DESIGN.md §2, so only the policy can refuse it.
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "call.received": {"psap": "PSAP-1"},
    "call.transferred": {"to": "PSAP-2"},
    "call.answered": {},
    "call.nature": {"code": "09-E-01", "text": "cardiac arrest"},
    "triage.conscious": {"answer": "no"},
    "triage.breathing": {"answer": "unsure"},
    "ohca.recognized": {},
    "tcpr.started": {},
    "tcpr.first_compression": {},
    "tcpr.not_given": {"reason": "caller_unable"},
    "unit.dispatched": {"unit": "M12"},
    "unit.on_scene": {"unit": "M12"},
    "call.ended": {},
    "ems.outcome": {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False},
    "qi.review": {"recognizable": True, "delay_reasons": ["call_transfer"]},
    "alert.raised": {"alert": "recognition_due"},
}
KINDS = tuple(SAMPLE_DATA)
CONSOLE = {
    "triage.conscious",
    "triage.breathing",
    "ohca.recognized",
    "tcpr.started",
    "tcpr.first_compression",
    "tcpr.not_given",
}
MAY_POST: dict[str, set[str]] = {
    "adapter": set(KINDS) - {"qi.review", "alert.raised"},
    "telecommunicator": CONSOLE,
    "supervisor": set(),
    "qi": {"qi.review", "ems.outcome"},
    "admin": set(KINDS) - {"alert.raised"},  # alert.raised is the service's own
    FOREIGN: set(),
}
MAY_READ: dict[str, set[str]] = {
    "audit": {"supervisor", "qi", "admin"},
    "measures": {"qi", "admin"},
    "rejects": {"admin"},
}
MAY_WATCH = {"telecommunicator", "supervisor", "qi", "admin"}


async def client_for(server: Server, principal: str) -> httpx.AsyncClient:
    if principal == FOREIGN:
        return await server.client("admin", "B")
    return await server.client(principal, "A")


def cell(principal: str, action: str, allowed: bool, response: httpx.Response) -> str | None:
    """A readable complaint when the response contradicts the matrix, else None."""
    if allowed and 200 <= response.status_code < 300:
        return None
    if not allowed and response.status_code == 403:
        return None
    want = "2xx" if allowed else "403"
    got = f"{response.status_code}: {response.text[:200]}"
    return f"{principal:>20} {action:<32} want {want}, got {got}"


async def test_posting_each_kind_of_event(server: Server) -> None:
    problems: list[str | None] = []
    for principal in PRINCIPALS:
        async with await client_for(server, principal) as client:
            for i, kind in enumerate(KINDS):
                e = event(
                    f"{principal}-{kind}",
                    kind,
                    (datetime(2026, 1, 15, 19, 0, tzinfo=UTC) + timedelta(seconds=i)).isoformat(),
                    call_id=f"R-{principal.split()[0]}",
                    data=SAMPLE_DATA[kind],
                )
                response = await client.post("/api/v1/events", json=e)
                problems.append(
                    cell(principal, f"POST {kind}", kind in MAY_POST[principal], response)
                )
    found = [p for p in problems if p]
    assert not found, "role x kind matrix:\n" + "\n".join(found)


async def test_reading_and_watching(server: Server) -> None:
    async with await server.client("admin", "A", "B") as admin:
        seed = await admin.post(
            "/api/v1/events",
            json=[
                event("a1", "call.received", "2026-01-15T14:00:00-05:00", call_id="A1"),
                event("w1", "call.received", at(5), call_id="W1"),  # live, for the panels
                event("b1", "call.received", "2026-01-15T14:00:00-05:00", "B1", agency="B"),
            ],
        )
        assert seed.status_code == 200, seed.text
        # One refusal so the rejects list is not trivially empty.
        await admin.post("/api/v1/events", json=event("bad", "call.exploded", at(1)))
    deadline = asyncio.get_running_loop().time() + 10
    while ("A", "W1") not in server.services.live.calls:
        assert asyncio.get_running_loop().time() < deadline, "W1 never became live"
        await asyncio.sleep(0.05)

    reads = {
        "audit": ("/api/v1/calls/A/A1/audit", {}),
        "measures": ("/api/v1/measures", {"agency": "A", "from": "2026-01-01", "to": "2026-02-01"}),
        "rejects": ("/api/v1/rejects", {"agency": "A"}),
    }
    problems: list[str | None] = []
    for principal in PRINCIPALS:
        async with await client_for(server, principal) as client:
            for action, (path, params) in reads.items():
                response = await client.get(path, params=params)
                allowed = principal in MAY_READ[action]
                problems.append(cell(principal, f"GET {action}", allowed, response))
            if principal == FOREIGN:
                # The same token is fine in its own agency: the refusals above are the agency's.
                for path, params in [
                    ("/api/v1/calls/B/B1/audit", {}),
                    ("/api/v1/measures", {"agency": "B"}),
                    ("/api/v1/rejects", {"agency": "B"}),
                ]:
                    own = await client.get(path, params=params)
                    problems.append(cell(principal, f"GET {path} (own agency)", True, own))

    for principal in PRINCIPALS:
        role, agency = ("admin", "B") if principal == FOREIGN else (principal, "A")
        token = await server.token(role, agency)
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            try:
                first = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                code = None
            except websockets.ConnectionClosed as closed:
                first, code = None, closed.rcvd.code if closed.rcvd else None
        if principal in MAY_WATCH:
            if first is None or first.get("type") != "snapshot":
                problems.append(f"{principal:>20} WS watch: want a snapshot, closed with {code}")
            elif "W1" not in [c["call_id"] for c in first["calls"]]:
                problems.append(f"{principal:>20} WS watch: live call W1 missing from snapshot")
        elif principal == FOREIGN:
            seen = [c["call_id"] for c in first["calls"]] if first else []
            if "W1" in seen:
                problems.append(f"{principal:>20} WS watch: sees agency A's call W1")
        elif code != 4403:
            problems.append(
                f"{principal:>20} WS watch: want close 4403, got {code} / {str(first)[:200]}"
            )

    found = [p for p in problems if p]
    assert not found, "role x read matrix:\n" + "\n".join(found)


def api_requests(server: Server) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, query) for every HTTP operation the app documents under /api/."""
    out = []
    for template, operations in server.app.openapi()["paths"].items():
        if not template.startswith("/api/"):
            continue
        path = template.replace("{agency}", "A").replace("{call_id}", "C1")
        path = re.sub(r"\{[^}]+\}", "x", path)
        for method in sorted(operations):
            out.append((method.upper(), path, {"agency": "A"}))
    return out


async def test_missing_bad_or_expired_token_is_401(server: Server) -> None:
    expired = await server.services.tokens.create(
        "admin", ["A"], "expired", expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    valid = await server.token("admin", "A")
    headers = {
        "no header": {},
        "bare scheme": {"Authorization": "Bearer"},
        "unknown token": {"Authorization": "Bearer tcpr_" + "x" * 43},
        "not a token": {"Authorization": "Bearer hunter2"},
        "wrong scheme": {"Authorization": f"Basic {valid}"},
        "token with a byte changed": {
            "Authorization": f"Bearer {valid[:-1]}{'A' if valid[-1] != 'A' else 'B'}"
        },
        "expired token": {"Authorization": f"Bearer {expired}"},
    }
    requests = api_requests(server)
    routes = {(m, p) for m, p, _ in requests}
    for contract_route in [
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/calls/A/C1/audit"),
        ("GET", "/api/v1/measures"),
        ("GET", "/api/v1/rejects"),
    ]:
        assert contract_route in routes, f"{contract_route} is not served"

    problems: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        health = await client.get("/healthz")
        if health.status_code != 200:
            problems.append(f"GET /healthz without a token: want 200, got {health.status_code}")
        for name, header in headers.items():
            for method, path, params in requests:
                body = json.dumps(event("e1", "call.received", at(5))) if method == "POST" else None
                response = await client.request(
                    method, path, params=params, headers=header, content=body
                )
                if response.status_code != 401:
                    problems.append(
                        f"{name:>26}: {method} {path}: want 401, got {response.status_code}"
                    )
                elif "bearer" not in response.headers.get("www-authenticate", "").lower():
                    problems.append(f"{name:>26}: {method} {path}: 401 without WWW-Authenticate")
        # The same requests with the valid token are not refused as unauthenticated.
        for method, path, params in requests:
            body = json.dumps(event("ok", "call.received", at(5))) if method == "POST" else None
            response = await client.request(
                method,
                path,
                params=params,
                headers={"Authorization": f"Bearer {valid}"},
                content=body,
            )
            if response.status_code in (401, 403):
                problems.append(f"valid admin: {method} {path}: got {response.status_code}")

    for name, token in [("unknown", "tcpr_" + "x" * 43), ("expired", expired), ("none", None)]:
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            try:
                first = await asyncio.wait_for(ws.recv(), timeout=10)
                problems.append(
                    f"WS with {name} token: want close 4401, got message {first[:200]!r}"
                )
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code != 4401:
                    problems.append(f"WS with {name} token: want close 4401, got {code}")

    assert not problems, "unauthenticated requests:\n" + "\n".join(problems)


async def test_tokens_are_stored_hashed(server: Server) -> None:
    plain = {role: await server.token(role, "A") for role in ROLES}
    expired = await server.services.tokens.create(
        "qi", ["A"], "expired-qi", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    plain["expired"] = expired

    async with server.services.tokens._sessions() as session:
        rows = list(await session.scalars(select(TokenRow)))
    assert len(rows) == len(plain)
    for row in rows:
        stored = " ".join(str(getattr(row, c.key)) for c in TokenRow.__table__.columns)
        for name, token in plain.items():
            assert token not in stored, f"the {name} token is stored in plain text"
            secret = token.removeprefix("tcpr_")
            assert secret not in stored, f"the {name} token's secret is stored in plain text"
    assert {row.role for row in rows} == set(ROLES)
    assert all(row.expires_at is None for row in rows if row.name != "expired-qi")

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        refused = await client.get(
            "/api/v1/measures",
            params={"agency": "A"},
            headers={"Authorization": f"Bearer {expired}"},
        )
        fresh = await client.get(
            "/api/v1/measures",
            params={"agency": "A"},
            headers={"Authorization": f"Bearer {plain['qi']}"},
        )
    assert refused.status_code == 401, refused.text
    assert fresh.status_code == 200, fresh.text
