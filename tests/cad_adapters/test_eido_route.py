"""POST /api/v1/eido over real HTTP: NENA's sample sets T0, re-sent and updated snapshots store
only new facts (the first report of a fact wins, never a 409), refusals name the field and are
kept, and only adapters and admins of the agency may post."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from support.harness import Server

from contract.event import Event
from service.store.events import EventConflict

URL = "/api/v1/eido"
JSON = {"Content-Type": "application/json"}
CALL = "INC-77"


def ref(value: str) -> dict[str, str]:
    return {"$ref": value}


def snapshot(m12: tuple[str, str], *, e7: tuple[str, str] | None = None) -> dict[str, Any]:
    """An incident answered at the county with unit M12 (and maybe E7) at (status, time)."""
    resources = [("unit-m12", "M12", *m12)]
    if e7 is not None:
        resources.append(("unit-e7", "E7", *e7))
    return {
        "$id": "urn:emergency:uid:incidentid:77:ems.county.gov",
        "lastUpdateTimeStamp": "2026-03-02T09:10:00-06:00",
        "updatedByAgencyReference": ref("ems.county.gov"),
        "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.ems.county.gov",
        "agencyComponent": [],
        "incidentComponent": {
            "$id": "inc-77",
            "lastUpdateTimeStamp": "2026-03-02T09:01:00-06:00",
            "updatedByAgencyReference": ref("ems.county.gov"),
            "incidentTypeCommonRegistryText": "Medical",
            "incidentTypeInternalCode": "09E01",
            "internalIncidentId": CALL,
        },
        "callComponent": [
            {
                "$id": "leg-1",
                "lastUpdateTimeStamp": "2026-03-02T09:00:20-06:00",
                "updatedByAgencyReference": ref("ems.county.gov"),
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": "2026-03-02T09:00:00-06:00",
                "answerDate": "2026-03-02T09:00:09-06:00",
                "callStateRegistryText": "callAnswered",
                "agentReference": [ref("jdoe@ems.county.gov")],
            }
        ],
        "emergencyResourceComponent": [
            {
                "$id": unit_id,
                "lastUpdateTimeStamp": at,
                "updatedByAgencyReference": ref("ems.county.gov"),
                "agentReference": [],
                "emergencyResourceTypeCommonRegistryText": "ALS",
                "emergencyResourceName": name,
                "primaryUnitStatusRegistryText": status,
                "resourceAttributeRegistryText": [],
                "secondaryUnitStatusRegistryText": [],
            }
            for unit_id, name, status, at in resources
        ],
    }


async def post(client: httpx.AsyncClient, document: Any, **params: str) -> httpx.Response:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return await client.post(URL, content=body, headers=JSON, params=params)


async def stored(server: Server, call_id: str, agency: str = "A") -> list[Event]:
    return await server.services.store.call_events(agency, call_id)


async def test_nena_sample_sets_t0(server: Server, shared: Path) -> None:
    sample = (
        shared / "standards" / "eido" / "samples" / "sample_call_transfer_EIDO.json"
    ).read_bytes()
    call = "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    adapter, supervisor = await server.client("adapter"), await server.client("supervisor")
    async with adapter, supervisor:
        response = await post(adapter, sample)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["call_id"], answer["agency"]) == (call, "A")
        assert (answer["accepted"], answer["duplicates"]) == (2, 0)
        audit = await supervisor.get(f"/api/v1/calls/A/{call}/audit")
        assert audit.status_code == 200, audit.text
        assert audit.json()["t0"] == "2021-04-30T14:40:00-04:00"
        answered = [e for e in await stored(server, call) if e.kind == "call.answered"]
        assert [(e.at.isoformat(), e.actor) for e in answered] == [
            ("2021-04-30T14:42:00-04:00", "tjones.atroop@state.pa.us")
        ]
        # The CAD sends the same snapshot again: nothing new.
        again = (await post(adapter, sample)).json()
        assert (again["accepted"], again["duplicates"]) == (0, 2)
        assert [r["seq"] for r in again["results"]] == [r["seq"] for r in answer["results"]]
        assert len(await stored(server, call)) == 2


async def test_updated_snapshots_store_only_new_facts(server: Server) -> None:
    adapter = await server.client("adapter")
    async with adapter:
        first = await post(adapter, snapshot(("Dispatched", "2026-03-02T09:02:00-06:00")))
        assert first.status_code == 200, first.text
        assert (first.json()["accepted"], first.json()["duplicates"]) == (4, 0)
        assert first.json()["call_id"] == CALL
        # M12 still listed as dispatched, with a later stamp; E7 newly assigned.
        second = await post(
            adapter,
            snapshot(
                ("Dispatched", "2026-03-02T09:05:00-06:00"),
                e7=("Assigned", "2026-03-02T09:04:00-06:00"),
            ),
        )
        assert second.status_code == 200, second.text
        assert (second.json()["accepted"], second.json()["duplicates"]) == (1, 4)
        # M12 now on scene; E7 restated.
        third = await post(
            adapter,
            snapshot(
                ("On Scene", "2026-03-02T09:09:00-06:00"),
                e7=("Assigned", "2026-03-02T09:06:00-06:00"),
            ),
        )
        assert third.status_code == 200, third.text
        assert (third.json()["accepted"], third.json()["duplicates"]) == (1, 4)
        accepted = [r for r in third.json()["results"] if r["status"] == "accepted"]
    events = await stored(server, CALL)
    assert [e.event_id for e in events if e.kind == "unit.on_scene"] == [accepted[0]["event_id"]]
    units = [
        (e.kind, e.data["unit"], e.at.isoformat()) for e in events if e.kind.startswith("unit")
    ]
    assert sorted(units) == [
        ("unit.dispatched", "E7", "2026-03-02T09:04:00-06:00"),
        ("unit.dispatched", "M12", "2026-03-02T09:02:00-06:00"),  # the first report won
        ("unit.on_scene", "M12", "2026-03-02T09:09:00-06:00"),
    ]


async def test_keep_first_only_for_the_asking_request(server: Server) -> None:
    """The store's keep_first turns a reused id with other content into a duplicate for that
    request alone; a plain append of the same still conflicts."""
    store = server.services.store

    def received(at: str) -> Event:
        return Event(
            event_id="K1",
            call_id="C-keep",
            agency="A",
            kind="call.received",
            at=datetime.fromisoformat(at),
        )

    first = await store.append([received("2026-03-02T09:00:00+00:00")])
    assert [o.status for o in first.outcomes] == ["accepted"]
    later = received("2026-03-02T09:05:00+00:00")
    kept = await store.append([later], keep_first=True)
    assert [(o.status, o.seq) for o in kept.outcomes] == [("duplicate", first.outcomes[0].seq)]
    try:
        await store.append([later])
    except EventConflict as conflict:
        assert conflict.event_id == "K1"
    else:
        raise AssertionError("a plain append of other content must conflict")
    # Within one request too: the first of two differing copies wins.
    twice = [
        Event("K2", "C-keep", "A", "call.answered", datetime(2026, 3, 2, 9, 1, tzinfo=UTC)),
        Event("K2", "C-keep", "A", "call.answered", datetime(2026, 3, 2, 9, 2, tzinfo=UTC)),
    ]
    both = await store.append(twice, keep_first=True)
    assert [o.status for o in both.outcomes] == ["accepted", "duplicate"]
    events = await stored(server, "C-keep")
    assert [(e.event_id, e.at.minute) for e in events] == [("K1", 0), ("K2", 1)]


async def test_bad_documents_are_refused_naming_the_field_and_kept(server: Server) -> None:
    adapter, admin = await server.client("adapter"), await server.client("admin")
    bad_time = snapshot(("Dispatched", "2026-03-02T09:02:00-06:00"))
    bad_time["callComponent"][0]["callStartTimestamp"] = "2026-03-02T09:00:00"
    no_ids = copy.deepcopy(bad_time)
    del no_ids["$id"], no_ids["incidentComponent"]["internalIncidentId"]
    async with adapter, admin:
        cases = [
            (bad_time, "callComponent[0].callStartTimestamp"),
            (no_ids, "$id"),
            (b"<eido/>", "body"),
            (b"[]", "body"),
        ]
        for document, field in cases:
            response = await post(adapter, document)
            assert response.status_code == 422, response.text
            assert response.json()["field"] == field
        wrong_type = await adapter.post(
            URL, content=json.dumps(bad_time), headers={"Content-Type": "text/plain"}
        )
        assert wrong_type.status_code == 415
        assert wrong_type.json()["field"] == "Content-Type"
        kept = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert [(r["status"], r["field"], r["endpoint"]) for r in kept] == [
        (415, "Content-Type", URL),
        (422, "body", URL),
        (422, "body", URL),
        (422, "$id", URL),
        (422, "callComponent[0].callStartTimestamp", URL),
    ]
    assert json.loads(kept[-1]["body"]) == bad_time
    assert "no UTC offset" in kept[-1]["reason"]
    assert await stored(server, CALL) == []


async def test_a_json_media_type_of_eido_is_accepted(server: Server) -> None:
    adapter = await server.client("adapter")
    async with adapter:
        response = await adapter.post(
            URL,
            content=json.dumps(snapshot(("Enroute", "2026-03-02T09:02:00-06:00"))),
            headers={"Content-Type": "application/emergency.eido+json; charset=utf-8"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 3  # received, answered, nature; Enroute is no event


async def test_who_may_post(server: Server) -> None:
    document = snapshot(("Dispatched", "2026-03-02T09:02:00-06:00"))
    for role in ("telecommunicator", "qi", "supervisor"):
        client = await server.client(role)
        async with client:
            response = await post(client, document)
        assert response.status_code == 403, (role, response.text)
        assert response.json()["field"] == "role"
    adapter = await server.client("adapter")
    async with adapter:
        response = await post(adapter, document, agency="B")
    assert response.status_code == 403 and response.json()["field"] == "agency"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await post(anonymous, document)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await stored(server, CALL) == []
    # An admin may, and a token of several agencies names one.
    admin = await server.client("admin", "A", "B")
    async with admin:
        unnamed = await post(admin, document)
        assert unnamed.status_code == 422 and unnamed.json()["field"] == "agency"
        named = await post(admin, document, agency="B")
    assert named.status_code == 200, named.text
    assert named.json()["agency"] == "B"
    assert {e.agency for e in await stored(server, CALL, "B")} == {"B"}
    assert await stored(server, CALL) == []


async def test_what_json_text_cannot_carry_is_refused_and_kept_not_a_500(server: Server) -> None:
    """A lone surrogate (legal as a JSON escape, not as Unicode text) and NaN (Python's json
    accepts it, RFC 8259 does not) answer 422 naming the field, and the body is kept."""
    adapter, admin = await server.client("adapter"), await server.client("admin")
    document = json.dumps(snapshot(("Dispatched", "2026-03-02T09:02:00-06:00")))
    surrogate = document.replace(
        '"internalIncidentId": "INC-77"', '"internalIncidentId": "INC-\\ud800"'
    ).encode()
    assert b"\\ud800" in surrogate and surrogate.isascii()
    document_id = json.dumps({**json.loads(document), "$id": "\ud800"}).encode()
    assert document_id.startswith(b'{"$id": "\\ud800"')
    nan = (document[:-1] + ', "score": NaN}').encode()
    async with adapter, admin:
        for body, field, words in [
            (surrogate, "incidentComponent.internalIncidentId", "U+D800"),
            (document_id, "$id", "U+D800"),
            (nan, "body", "NaN"),
        ]:
            response = await post(adapter, body)
            assert response.status_code == 422, response.text
            assert response.json()["field"] == field
            assert words in response.json()["detail"]
        kept = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
    assert [(r["status"], r["field"]) for r in kept] == [
        (422, "body"),
        (422, "$id"),
        (422, "incidentComponent.internalIncidentId"),
    ]
    assert [r["body"].encode() for r in kept] == [nan, document_id, surrogate]
    assert await stored(server, CALL) == []
