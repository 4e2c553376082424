"""The QI audit list, its exports and the review form's endpoints over real HTTP, on SQLite and
PostgreSQL.

Five calls of agency A (profile aha-2020: recognition < 90 s, first compression < 150 s) and one
of agency B; every expected value is worked out by hand from the times below.

| call | T0 (as written)           | who  | recog.     | compr.      | population  | review     |
| K1   | 2026-01-10T08:00:00Z      | tc-1 | +40 met    | +100 met    | yes         | none       |
| K2   | 2026-01-12T09:00:00-05:00 | tc-2 | +95 missed | +170 missed | yes         | none       |
| K3   | 2026-01-15T10:00:00Z      | tc-1 | never      | -           | yes: missed | none       |
| K4   | 2026-01-20T12:00:00Z      | tc-2 | +50 -> 45  | +149.9 met  | no outcome  | signed off |
| K5   | 2026-02-02T00:00:00Z      | tc-1 | +90 missed | -           | no outcome  | draft      |
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from support.harness import Server, event, service_settings, start_server

POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}


def call(call_id: str, t0: str, tc: str, *rest: tuple[str, float, dict[str, Any]], agency="A"):
    start = datetime.fromisoformat(t0)

    def at(seconds: float) -> str:
        return (start + timedelta(seconds=seconds)).isoformat()

    events = [
        event(f"{call_id}-r", "call.received", t0, call_id, agency, data={"psap": "P1"}),
        event(f"{call_id}-a", "call.answered", at(5), call_id, agency, actor=tc),
    ]
    for i, (kind, seconds, data) in enumerate(rest):
        source = "ems" if kind == "ems.outcome" else "cad"
        events.append(
            event(f"{call_id}-{i}", kind, at(seconds), call_id, agency, source=source, data=data)
        )
    return events


def review(call_id: str, when: str, actor: str | None, **data: Any) -> dict[str, Any]:
    return event(
        f"{call_id}-rev-{when}", "qi.review", when, call_id, source="qi", actor=actor, data=data
    )


async def seed(server: Server) -> None:
    adapter = await server.client("adapter", "A", "B")
    qi = await server.client("qi", "A")
    async with adapter, qi:
        batches = [
            call(
                "K1",
                "2026-01-10T08:00:00+00:00",
                "tc-1",
                ("ohca.recognized", 40, {}),
                ("tcpr.started", 60, {}),
                ("tcpr.first_compression", 100, {}),
                ("call.ended", 600, {}),
                ("ems.outcome", 3600, POPULATION),
            ),
            call(
                "K2",
                "2026-01-12T09:00:00-05:00",
                "tc-2",
                ("ohca.recognized", 95, {}),
                ("tcpr.first_compression", 170, {}),
                ("call.ended", 600, {}),
                ("ems.outcome", 3600, POPULATION),
            ),
            call(
                "K3",
                "2026-01-15T10:00:00+00:00",
                "tc-1",
                ("triage.conscious", 20, {"answer": "yes"}),
                ("call.ended", 300, {}),
                ("ems.outcome", 3600, POPULATION),
            ),
            call(
                "K4",
                "2026-01-20T12:00:00+00:00",
                "tc-2",
                ("ohca.recognized", 50, {}),
                ("tcpr.first_compression", 149.9, {}),
                ("call.ended", 600, {}),
            ),
            call("K5", "2026-02-02T00:00:00+00:00", "tc-1", ("ohca.recognized", 90, {})),
            call("KB1", "2026-01-11T00:00:00+00:00", "tc-1", agency="B"),
        ]
        for batch in batches:
            assert (await adapter.post("/api/v1/events", json=batch)).status_code == 200
        reviews = [
            review(
                "K4",
                "2026-01-21T09:00:00-05:00",
                "qi-7",
                recognizable=True,
                delay_reasons=["call_transfer", "other: caller on a ladder"],
                corrections={"ohca.recognized": "2026-01-20T12:00:45+00:00"},
                notes="=SUM(A1) typed by a person",
                feedback="Clear, fast hand-off to compressions.",
                signed_off=True,
            ),
            review("K5", "2026-02-03T09:00:00Z", "qi-7", recognizable=True, signed_off=False),
        ]
        assert (await qi.post("/api/v1/events", json=reviews)).status_code == 200


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/audits", params={"agency": "A", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [row["call_id"] for row in body["audits"]]


async def test_filters_pages_and_rows(server: Server) -> None:
    await seed(server)
    async with await server.client("qi", "A") as qi:
        everything = await listed(qi)
        assert ids(everything) == ["K5", "K4", "K3", "K2", "K1"]  # newest T0 first
        assert everything["total"] == 5
        assert everything["next_cursor"] is None
        assert everything["counts"] == {
            "calls": 5,
            "missed": 3,
            "unreviewed": 3,
            "unsigned": 4,
            "population": 3,
        }
        assert everything["thresholds"] == {"recognition_s": 90, "first_compression_s": 150}

        cases: list[tuple[dict[str, str], list[str]]] = [
            ({"from": "2026-01-11", "to": "2026-02-01"}, ["K4", "K3", "K2"]),
            # K2's T0 is 14:00Z: a bound in another offset is the same instant.
            ({"from": "2026-01-12T09:00:00-05:00", "to": "2026-01-12T14:00:00.001Z"}, ["K2"]),
            ({"to": "2026-01-12T14:00:00Z"}, ["K1"]),  # T0 < to
            ({"telecommunicator": "tc-1"}, ["K5", "K3", "K1"]),
            ({"missed": "true"}, ["K5", "K3", "K2"]),  # 90 s is not < 90; never recognised
            ({"unreviewed": "true"}, ["K3", "K2", "K1"]),
            ({"unsigned": "true"}, ["K5", "K3", "K2", "K1"]),  # a draft is not signed off
            ({"population": "true"}, ["K3", "K2", "K1"]),
            ({"missed": "true", "unreviewed": "true"}, ["K3", "K2"]),
            ({"missed": "true", "telecommunicator": "tc-2"}, ["K2"]),
            ({"missed": "false", "population": "0"}, ["K5", "K4", "K3", "K2", "K1"]),
            ({"call_id": "K4"}, ["K4"]),
        ]
        for params, expected in cases:
            body = await listed(qi, **params)
            assert ids(body) == expected, params
            assert body["total"] == len(expected), params
        tc1 = await listed(qi, telecommunicator="tc-1", missed="true")
        # Counts cover the period and people filters, not the flags, so chips can show them.
        assert tc1["counts"] == {
            "calls": 3,
            "missed": 2,
            "unreviewed": 2,
            "unsigned": 3,  # K1, K3 and K5's draft
            "population": 2,
        }

        rows = {row["call_id"]: row for row in everything["audits"]}
        assert rows["K2"] == {
            "call_id": "K2",
            "t0": "2026-01-12T14:00:00+00:00",
            "telecommunicator": "tc-2",
            "recognized": True,
            "intervals": {"to_recognition": 95.0, "to_first_compression": 170.0},
            "benchmarks": {"recognition_met": False, "first_compression_met": False},
            "missed": True,
            "not_given_reason": None,
            "in_population": True,
            "has_ems_outcome": True,
            "reviewed": False,
            "recognizable": None,
            "signed_off": False,
            "ended": True,
            "t0_source": "call.received",
            "t0_fallback": False,
            "recognition_after_arrival": False,
            "excluded": False,
            "exclusion_valid": None,
        }
        assert rows["K4"]["intervals"] == {"to_recognition": 45.0, "to_first_compression": 149.9}
        assert rows["K4"]["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
        assert (rows["K4"]["reviewed"], rows["K4"]["signed_off"]) == (True, True)
        assert (rows["K5"]["reviewed"], rows["K5"]["signed_off"]) == (True, False)
        assert rows["K3"]["recognized"] is False and rows["K3"]["missed"] is True
        assert rows["K3"]["benchmarks"] == {"recognition_met": None, "first_compression_met": None}

        # Keyset pages of two: every call once, in order, the total on every page.
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = await listed(qi, **params)
            assert page["total"] == 5
            seen += ids(page)
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert (seen, pages) == (["K5", "K4", "K3", "K2", "K1"], 3)
        # A cursor keeps its place under filters too.
        first = await listed(qi, missed="true", limit="1")
        second = await listed(qi, missed="true", limit="1", cursor=first["next_cursor"])
        assert (ids(first), ids(second)) == (["K5"], ["K3"])

    # A supervisor reads audits too; B's call never shows in A's list.
    async with await server.client("supervisor", "A") as supervisor:
        assert ids(await listed(supervisor, call_id="KB1")) == []


async def test_csv_export(server: Server) -> None:
    await seed(server)
    async with await server.client("qi", "A") as qi:
        response = await qi.get("/api/v1/exports/audits.csv", params={"agency": "A"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["call_id"] for r in rows] == ["K5", "K4", "K3", "K2", "K1"]
        k2 = next(r for r in rows if r["call_id"] == "K2")
        assert {key: k2[key] for key in (
            "agency", "telecommunicator", "psap", "benchmark_profile", "t0", "call_received",
            "call_answered", "recognized", "recognized_original", "first_compression",
            "call_ended", "to_answer_s", "to_recognition_s", "to_first_compression_s",
            "to_dispatch_s", "recognition_threshold_s", "recognition_met",
            "first_compression_met", "recognition_path", "ems_ohca", "ems_resuscitation_attempted",
            "ems_witnessed", "ems_rosc", "in_population", "reviewed", "signed_off", "reviewer",
        )} == {
            "agency": "A",
            "telecommunicator": "tc-2",
            "psap": "P1",
            "benchmark_profile": "aha-2020",
            "t0": "2026-01-12T09:00:00-05:00",
            "call_received": "2026-01-12T09:00:00-05:00",
            "call_answered": "2026-01-12T09:00:05-05:00",
            "recognized": "2026-01-12T09:01:35-05:00",
            "recognized_original": "",
            "first_compression": "2026-01-12T09:02:50-05:00",
            "call_ended": "2026-01-12T09:10:00-05:00",
            "to_answer_s": "5.0",
            "to_recognition_s": "95.0",
            "to_first_compression_s": "170.0",
            "to_dispatch_s": "",
            "recognition_threshold_s": "90",
            "recognition_met": "false",
            "first_compression_met": "false",
            "recognition_path": "direct",
            "ems_ohca": "true",
            "ems_resuscitation_attempted": "true",
            "ems_witnessed": "false",
            "ems_rosc": "",
            "in_population": "true",
            "reviewed": "false",
            "signed_off": "false",
            "reviewer": "",
        }  # fmt: skip
        k4 = next(r for r in rows if r["call_id"] == "K4")
        assert k4["recognized"] == "2026-01-20T12:00:45+00:00"  # the correction in force
        assert k4["recognized_original"] == "2026-01-20T12:00:50+00:00"
        assert k4["to_recognition_s"] == "45.0"
        assert k4["to_first_compression_s"] == "149.9"
        assert k4["delay_reasons"] == "call_transfer;other: caller on a ladder"
        assert k4["notes"] == "'=SUM(A1) typed by a person"  # no formula in a spreadsheet
        assert k4["feedback"] == "Clear, fast hand-off to compressions."
        assert (k4["signed_off"], k4["reviewer"], k4["recognizable"]) == ("true", "qi-7", "true")
        assert k4["reviewed_at"] == "2026-01-21T09:00:00-05:00"
        assert k4["in_population"] == "false"
        k3 = next(r for r in rows if r["call_id"] == "K3")
        assert (k3["recognized"], k3["conscious"], k3["to_recognition_s"]) == ("", "yes", "")

        filtered = await qi.get(
            "/api/v1/exports/audits.csv",
            params={"agency": "A", "missed": "true", "unreviewed": "1"},
        )
        assert [r["call_id"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["K3", "K2"]
        one = await qi.get("/api/v1/exports/audits.csv", params={"agency": "A", "call_id": "K1"})
        assert [r["call_id"] for r in csv.DictReader(io.StringIO(one.text))] == ["K1"]
        empty = await qi.get(
            "/api/v1/exports/audits.csv", params={"agency": "A", "from": "2027-01-01"}
        )
        header_only = list(csv.reader(io.StringIO(empty.text)))
        assert len(header_only) == 1
        assert header_only[0][:2] == ["agency", "call_id"]


async def test_json_export_has_the_full_drafts(server: Server) -> None:
    await seed(server)
    async with await server.client("qi", "A") as qi:
        response = await qi.get(
            "/api/v1/exports/audits.json", params={"agency": "A", "from": "2026-01-11"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["filters"]["from"] == "2026-01-11T00:00:00+00:00"
        assert [a["call_id"] for a in body["audits"]] == ["K5", "K4", "K3", "K2"]
        k4 = body["audits"][1]
        single = (await qi.get("/api/v1/calls/A/K4/audit")).json()
        # The same draft as the single-audit route, which also says whether the agency is a
        # training one (an export never holds one: they are refused).
        assert {**k4, "training": False} == single
        assert k4["determination"]["feedback"] == "Clear, fast hand-off to compressions."
        assert k4["original_times"] == {"ohca.recognized": "2026-01-20T12:00:50+00:00"}
        assert [(e["kind"], e["seconds"]) for e in k4["timeline"]] == [
            ("call.received", 0.0),
            ("call.answered", 5.0),
            ("ohca.recognized", 50.0),
            ("tcpr.first_compression", 149.9),
            ("call.ended", 600.0),
            ("qi.review", 93600.0),  # 21 Jan 09:00-05:00 = 14:00Z, 26 h after 20 Jan 12:00Z
        ]
        recognition = k4["timeline"][2]
        assert recognition["recognition"] is True
        assert recognition["corrected_at"] == "2026-01-20T12:00:45+00:00"
        empty = await qi.get(
            "/api/v1/exports/audits.json", params={"agency": "A", "to": "2020-01-01"}
        )
        assert empty.json()["audits"] == []


async def test_reasons_and_me(server: Server) -> None:
    async with await server.client("qi", "A", "B") as qi:
        response = await qi.get("/api/v1/qi/reasons", params={"agency": "A"})
        assert response.status_code == 200
        body = response.json()
        assert body["nonrecognition_reasons"][0] == "agonal_breathing_reported_as_breathing"
        assert "speakerphone_problem" in body["delay_reasons"]
        assert len(body["delay_reasons"]) == 8
        assert body["free_text_prefix"] == "other:"
        assert body["thresholds"] == {"recognition_s": 90, "first_compression_s": 150}
        me = (await qi.get("/api/v1/qi/me")).json()
        assert datetime.fromisoformat(me.pop("server_time")).tzinfo is not None
        assert me == {
            "role": "qi",
            "name": "test-qi",
            "reviewer": "test-qi",
            "agencies": ["A", "B"],
            "training_agencies": [],
            "may_review": True,
            "may_read_measures": True,
        }
    # The AHA names "the supervisor (or designated QI person)" as the reviewer.
    async with await server.client("supervisor", "A") as supervisor:
        assert (await supervisor.get("/api/v1/qi/me")).json()["may_review"] is True
        assert (await supervisor.get("/api/v1/qi/me")).json()["may_read_measures"] is False
    async with await server.client("telecommunicator", "A") as telecommunicator:
        assert (await telecommunicator.get("/api/v1/qi/me")).json()["may_review"] is False


async def test_roles_agencies_and_bad_filters(server: Server) -> None:
    routes = ["/api/v1/audits", "/api/v1/exports/audits.csv", "/api/v1/exports/audits.json"]
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for route in [*routes, "/api/v1/qi/reasons", "/api/v1/qi/me"]:
            assert (await anonymous.get(route, params={"agency": "A"})).status_code == 401
    for role in ("telecommunicator", "adapter"):
        async with await server.client(role, "A") as client:
            for route in [*routes, "/api/v1/qi/reasons"]:
                response = await client.get(route, params={"agency": "A"})
                assert response.status_code == 403, (role, route)
    async with await server.client("qi", "A") as qi:
        for route in [*routes, "/api/v1/qi/reasons"]:
            assert (await qi.get(route, params={"agency": "B"})).status_code == 403, route
        bad = [
            ({"missed": "maybe"}, "missed"),
            ({"unreviewed": "2"}, "unreviewed"),
            ({"population": "yes please"}, "population"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2026-01-01T00:00:00"}, "to"),  # no offset
            ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
            ({"from": "0001-01-01T00:00:00+05:00"}, "from"),  # before year 1 in UTC
            ({"to": "9999-12-31T23:59:59-05:00"}, "to"),  # after year 9999 in UTC
        ]
        for route in routes:
            for params, field in bad:
                response = await qi.get(route, params={"agency": "A", **params})
                assert response.status_code == 422, (route, params)
                assert response.json()["detail"]["field"] == field, (route, params)
        paging = [
            ({"cursor": "not-a-cursor"}, "cursor"),
            # ["0001-01-01T00:00:00+05:00", "x"]: a time before year 1 in UTC
            ({"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzA1OjAwIiwieCJd"}, "cursor"),
            ({"limit": "0"}, "limit"),
            ({"limit": "501"}, "limit"),
            ({"limit": "ten"}, "limit"),
        ]
        for params, field in paging:
            response = await qi.get("/api/v1/audits", params={"agency": "A", **params})
            assert response.status_code == 422, params
            assert response.json()["detail"]["field"] == field
        missing = await qi.get("/api/v1/audits")
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["query", "agency"]


async def test_review_fields_are_checked_at_the_door(server: Server) -> None:
    async with await server.client("adapter", "A") as adapter:
        batch = call("R1", "2026-01-05T10:00:00+00:00", "tc-1")
        assert (await adapter.post("/api/v1/events", json=batch)).status_code == 200
    async with await server.client("qi", "A") as qi:
        cases = [
            ({"delay_reasons": ["call_transfer", "  "]}, "data.delay_reasons"),
            ({"delay_reasons": ["x" * 501]}, "data.delay_reasons"),
            ({"nonrecognition_reasons": ["other:  "]}, "data.nonrecognition_reasons"),
            ({"signed_off": "yes"}, "data.signed_off"),
            ({"feedback": 5}, "data.feedback"),
        ]
        for i, (data, field) in enumerate(cases):
            bad = review("R1", f"2026-01-06T10:00:0{i}Z", "qi-1", **data)
            response = await qi.post("/api/v1/events", json=bad)
            assert response.status_code == 422, data
            assert response.json()["field"] == field, response.json()
        unsigned_by = review("R1", "2026-01-06T10:30:00Z", None, signed_off=True)
        response = await qi.post("/api/v1/events", json=unsigned_by)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "actor", response.json()
        good = review(
            "R1",
            "2026-01-06T11:00:00Z",
            "qi-1",
            recognizable=False,
            nonrecognition_reasons=["caller_not_with_patient", "other: caller relayed by a child"],
            feedback="Ask to be put on speaker.",
            signed_off=True,
        )
        assert (await qi.post("/api/v1/events", json=good)).status_code == 200
        audit = (await qi.get("/api/v1/calls/A/R1/audit")).json()
        assert audit["determination"]["nonrecognition_reasons"] == [
            "caller_not_with_patient",
            "other: caller relayed by a child",
        ]
        assert audit["determination"]["reviewer"] == "qi-1"
        assert audit["signed_off"] is True
        assert ids(await listed(qi, unsigned="true")) == []


async def test_the_form_offers_the_agency_own_reason_codes(sqlite_url: str) -> None:
    own = {"A": {"reasons": {"delay": ["cad_down", "call_transfer"], "nonrecognition": ["x_y"]}}}
    running = await start_server(service_settings(sqlite_url, agencies=own))
    try:
        async with await running.client("qi", "A", "B") as qi:
            a = (await qi.get("/api/v1/qi/reasons", params={"agency": "A"})).json()
            b = (await qi.get("/api/v1/qi/reasons", params={"agency": "B"})).json()
    finally:
        await running.stop()
    # The seeded codes first, then the agency's own, each once.
    assert a["delay_reasons"][-1] == "cad_down" and len(a["delay_reasons"]) == 9
    assert a["nonrecognition_reasons"][-1] == "x_y" and len(a["nonrecognition_reasons"]) == 7
    assert "cad_down" not in b["delay_reasons"] and len(b["delay_reasons"]) == 8


async def test_qi_me_gives_the_reviewers_own_name_and_the_services_time(server: Server) -> None:
    """The QI page signs a review in the sign-in's own name and stamps it by the service's
    clock; a token issued without a name has no reviewer name to offer."""
    named = await server.services.tokens.create("qi", ["A"], "qi-ana")
    unnamed = await server.services.tokens.create("qi", ["A"])
    answers = {}
    for label, token in (("named", named), ("unnamed", unnamed)):
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            answers[label] = (await client.get("/api/v1/qi/me")).json()
    assert answers["named"]["reviewer"] == "qi-ana"
    assert answers["unnamed"]["reviewer"] is None
    told = datetime.fromisoformat(answers["named"]["server_time"])
    assert abs((told - datetime.now(UTC)).total_seconds()) < 60
