"""Token management by admins: issue, list, revoke, never outside the admin's own agencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from support.harness import Server

from service.store.tables import SessionRow, TokenRow


async def test_an_admin_issues_a_token_that_works_and_is_shown_once(server: Server) -> None:
    async with await server.client("admin", "A", "B") as admin:
        response = await admin.post(
            "/api/v1/tokens",
            json={
                "role": "supervisor",
                "agencies": ["B", "A"],
                "name": "sup-1",
                "expires_in_days": 30,
            },
        )
        assert response.status_code == 201, response.text
        issued = response.json()
        assert issued["role"] == "supervisor" and issued["agencies"] == ["A", "B"]
        assert issued["name"] == "sup-1" and issued["created_by"] == "admin:test-admin"
        expires = datetime.fromisoformat(issued["expires_at"])
        assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
        token = issued["token"]
        assert token.startswith("tcpr_")

        listed = await admin.get("/api/v1/tokens")
        assert listed.status_code == 200, listed.text
        assert token not in listed.text and "hash" not in listed.text
        mine = [t for t in listed.json() if t["id"] == issued["id"]]
        assert mine and "token" not in mine[0]

        at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        fixed = await admin.post(
            "/api/v1/tokens", json={"role": "qi", "agencies": ["A"], "expires_at": at}
        )
        assert fixed.status_code == 201, fixed.text
        assert datetime.fromisoformat(fixed.json()["expires_at"]) == datetime.fromisoformat(at)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}
    ) as new:
        me = await new.get("/api/v1/session")
        assert me.status_code == 200 and me.json()["role"] == "supervisor"
    async with server.services.sessions() as session:
        row = await session.get(TokenRow, issued["id"])
        assert row is not None and row.token_hash != token and token not in str(row.__dict__)
        assert row.created_by == "admin:test-admin"


async def test_invalid_requests_are_422_naming_the_field(server: Server) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = {
        "role": {"role": "root", "agencies": ["A"]},
        "agencies": {"role": "qi", "agencies": []},
        "agencies.0": {"role": "qi", "agencies": ["X" * 33]},
        "expires_in_days": {"role": "qi", "agencies": ["A"], "expires_in_days": -1},
        "expires_at": {"role": "qi", "agencies": ["A"], "expires_at": past},
        "name": {"role": "qi", "agencies": ["A"], "name": ""},
    }
    async with await server.client("admin", "A") as admin:
        for field, body in cases.items():
            response = await admin.post("/api/v1/tokens", json=body)
            assert response.status_code == 422, f"{field}: {response.text}"
            detail = response.json()["detail"][0]
            named = ".".join(str(p) for p in detail["loc"][1:]) or detail["msg"]
            assert field in named or field in detail["msg"], f"{field}: {detail}"
        both = await admin.post(
            "/api/v1/tokens",
            json={"role": "qi", "agencies": ["A"], "expires_at": past, "expires_in_days": 1},
        )
        assert both.status_code == 422 and "expires_at" in both.text
        assert (await admin.delete("/api/v1/tokens/nope")).status_code == 422
        assert (await admin.delete("/api/v1/tokens/999999")).status_code == 404


async def test_no_admin_reaches_outside_its_agencies(server: Server) -> None:
    tokens = server.services.tokens
    a_only, _ = await tokens.issue("telecommunicator", ["A"], "tc-a")
    a_and_b, _ = await tokens.issue("qi", ["A", "B"], "state-qi")
    async with await server.client("admin", "A") as admin:
        minted = await admin.post("/api/v1/tokens", json={"role": "qi", "agencies": ["A", "B"]})
        assert minted.status_code == 403 and "agency B" in minted.text
        seen = await admin.get("/api/v1/tokens", params={"agency": "B"})
        assert seen.status_code == 403 and "agency B" in seen.text
        listed = {t["id"] for t in (await admin.get("/api/v1/tokens")).json()}
        assert a_only.id in listed and a_and_b.id not in listed  # B is not this admin's
        filtered = (await admin.get("/api/v1/tokens", params={"agency": "A"})).json()
        assert all("A" in t["agencies"] for t in filtered) and filtered
        revoked = await admin.delete(f"/api/v1/tokens/{a_and_b.id}")
        assert revoked.status_code == 403 and "agency B" in revoked.text
    assert await tokens.is_live(a_and_b.id, fresh=True)
    for role in ("telecommunicator", "supervisor", "qi", "adapter"):
        async with await server.client(role, "A") as client:
            for response in (
                await client.post("/api/v1/tokens", json={"role": "qi", "agencies": ["A"]}),
                await client.get("/api/v1/tokens"),
                await client.delete(f"/api/v1/tokens/{a_only.id}"),
            ):
                assert response.status_code == 403, f"{role}: {response.text}"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/api/v1/tokens")).status_code == 401


async def test_revoking_a_token_ends_it_and_its_sessions(server: Server) -> None:
    info, token = await server.services.tokens.issue("supervisor", ["A"], "leaving")
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        opened = await client.post("/api/v1/session", json={"token": token})
        cookie = {"Cookie": opened.headers["set-cookie"].split(";")[0]}
        assert (await client.get("/api/v1/session", headers=bearer)).status_code == 200
        assert (await client.get("/api/v1/session", headers=cookie)).status_code == 200
    async with await server.client("admin", "A") as admin:
        assert (await admin.delete(f"/api/v1/tokens/{info.id}")).status_code == 204
        assert (await admin.delete(f"/api/v1/tokens/{info.id}")).status_code == 204  # idempotent
        listed = {t["id"]: t for t in (await admin.get("/api/v1/tokens")).json()}
        assert listed[info.id]["revoked_at"] is not None
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/api/v1/session", headers=bearer)).status_code == 401
        assert (await client.get("/api/v1/session", headers=cookie)).status_code == 401
    async with server.services.sessions() as session:
        rows = await session.scalars(select(SessionRow).where(SessionRow.token_id == info.id))
        assert all(row.revoked_at is not None for row in rows)
