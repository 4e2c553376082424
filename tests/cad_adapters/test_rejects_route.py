"""POST /api/v1/rejects: an adapter files a record it could not read; who may, and what is kept."""

from __future__ import annotations

import httpx
import pytest
from support.harness import Server

FILED = {
    "source": "/srv/cad/export.csv",
    "position": "line 12 (byte 3480)",
    "raw": "15555,10000788,2/30/10 12:00 AM,...",
    "reason": "impossible date '2/30/10'",
    "field": "incident_date",
}


async def test_a_filed_record_is_kept_with_where_and_why(server: Server) -> None:
    async with await server.client("adapter", "A") as adapter:
        response = await adapter.post("/api/v1/rejects", json=FILED)
    assert response.status_code == 200
    assert response.json() == {"status": "kept", "agency": "A"}
    async with await server.client("admin", "A") as admin:
        kept = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert len(kept) == 1
    assert kept[0]["body"] == FILED["raw"]
    assert kept[0]["field"] == "incident_date"
    assert kept[0]["reason"] == (
        "/srv/cad/export.csv line 12 (byte 3480): impossible date '2/30/10'"
    )
    assert kept[0]["principal"] == "adapter:test-adapter"  # role:label of the token that filed it


@pytest.mark.parametrize("role", ["telecommunicator", "supervisor", "qi"])
async def test_other_roles_may_not_file_rejects(server: Server, role: str) -> None:
    async with await server.client(role, "A") as client:
        response = await client.post("/api/v1/rejects", json=FILED)
    assert response.status_code == 403
    assert response.json()["field"] == "role"


async def test_agency_boundaries_and_authentication(server: Server) -> None:
    async with await server.client("adapter", "A") as adapter:
        foreign = await adapter.post("/api/v1/rejects", json=FILED, params={"agency": "B"})
    assert foreign.status_code == 403 and foreign.json()["field"] == "agency"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.post("/api/v1/rejects", json=FILED)).status_code == 401
    # The refused filing is kept in the token's own agency, never written into B's store.
    async with await server.client("admin", "A", "B") as admin:
        in_b = (await admin.get("/api/v1/rejects", params={"agency": "B"})).json()["rejects"]
        in_a = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert in_b == []
    assert [r["status"] for r in in_a] == [403]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FILED, "reason": ""}, "reason"),
        ({k: v for k, v in FILED.items() if k != "source"}, "source"),
        ({**FILED, "raw": 12}, "raw"),
        ({**FILED, "extra": 1}, "extra"),
    ],
)
async def test_a_malformed_filing_names_the_field(
    server: Server, body: dict[str, object], field: str
) -> None:
    async with await server.client("adapter", "A") as adapter:
        response = await adapter.post("/api/v1/rejects", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
