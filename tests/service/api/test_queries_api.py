"""GET /api/v1/calls/{agency}/{call_id}/audit and GET /api/v1/measures over real HTTP.

Every expected number here is worked out by hand from the event times (DESIGN.md §4, §5, §8),
never by calling the service's own arithmetic.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from support.harness import Server, event

EST = timezone(timedelta(hours=-5))


async def post(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    response = await client.post("/api/v1/events", json=events)
    assert response.status_code == 200, response.text


async def audit_of(client: httpx.AsyncClient, call_id: str, agency: str = "A") -> dict[str, Any]:
    response = await client.get(f"/api/v1/calls/{agency}/{call_id}/audit")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def instant(value: str | None) -> datetime:
    assert value is not None
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value} has no offset"
    return parsed


# -- audit ---------------------------------------------------------------------------------------


async def test_audit_of_a_realistic_call(server: Server) -> None:
    # T0 four minutes ago, written with the caller's -05:00 offset, so the live alert schedule
    # (warning at 60 s, benchmark at 90 s, 5 min grace) still fires the recognition alerts.
    t0 = (datetime.now(UTC) - timedelta(seconds=240)).replace(microsecond=0).astimezone(EST)

    def t(seconds: float) -> str:
        return (t0 + timedelta(seconds=seconds)).isoformat()

    adapter = await server.client("adapter")
    # The console is tc-7's own: a console acts only in its holder's name.
    tc7 = await server.services.tokens.create("telecommunicator", ["A"], "tc-7")
    console = httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {tc7}"}, timeout=30
    )
    supervisor = await server.client("supervisor")
    async with adapter, console, supervisor:
        await post(
            adapter,
            [
                event("r1", "call.received", t(0), call_id="911-0042", data={"psap": "PSAP-1"}),
                event("r2", "call.answered", t(6.5), call_id="911-0042", actor="tc-7"),
            ],
        )
        # Neither question is answered yet: both recognition alerts are past due and fire.
        deadline = asyncio.get_running_loop().time() + 15
        while (alerts := (await audit_of(supervisor, "911-0042"))["alerts"]) != [
            "recognition_due",
            "recognition_overdue",
        ]:
            assert asyncio.get_running_loop().time() < deadline, alerts
            await asyncio.sleep(0.1)

        console_events = [
            event("r3", "triage.conscious", t(40), "911-0042", actor="tc-7", data={"answer": "no"}),
            event(
                "r5",
                "triage.breathing",
                t(95),
                "911-0042",
                actor="tc-7",
                data={"answer": "unsure"},
            ),
            event("r6", "tcpr.started", t(104), "911-0042", actor="tc-7"),
            event("r7", "tcpr.first_compression", t(141.25), "911-0042", actor="tc-7"),
        ]
        for e in console_events:
            e["source"] = "console"
        await post(console, list(reversed(console_events)))  # arrival order does not matter
        await post(
            adapter,
            [
                event("r8", "unit.on_scene", t(188), "911-0042", data={"unit": "M12"}),
                event("r4", "unit.dispatched", t(72), "911-0042", data={"unit": "M12"}),
            ],
        )
        audit = await audit_of(supervisor, "911-0042")

    assert audit["agency"] == "A"
    assert audit["call_id"] == "911-0042"
    assert instant(audit["t0"]) == t0
    assert audit["intervals"] == {
        "to_answer": 6.5,
        "to_recognition": 95.0,  # "unsure" to breathing completes the pair at +95 s
        "to_dispatch": 72.0,
        "to_tcpr_start": 104.0,
        "to_first_compression": 141.25,
        "to_on_scene": 188.0,
    }
    for name, value in audit["intervals"].items():
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
    # 95 s is not below 90 s; 141.25 s is below 150 s.
    assert audit["benchmarks"] == {"recognition_met": False, "first_compression_met": True}
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "question"
    assert audit["alerts"] == ["recognition_due", "recognition_overdue"]
    assert audit["benchmark_profile"] == "aha-2020"


async def test_audit_of_an_unrecognised_call_and_of_an_unknown_one(server: Server) -> None:
    async with await server.client("admin") as admin:
        await post(
            admin,
            [
                event("u1", "call.received", "2026-01-15T14:00:00-05:00", call_id="U1"),
                event(
                    "u2",
                    "triage.conscious",
                    "2026-01-15T14:00:30-05:00",
                    call_id="U1",
                    data={"answer": "yes"},
                ),
            ],
        )
        audit = await audit_of(admin, "U1")
        unknown = await admin.get("/api/v1/calls/A/NO-SUCH-CALL/audit")
        other_agency = await admin.get("/api/v1/calls/A/U1-in-B/audit")

    assert instant(audit["t0"]) == datetime(2026, 1, 15, 19, 0, tzinfo=UTC)
    assert audit["intervals"] == {
        "to_answer": None,
        "to_recognition": None,
        "to_dispatch": None,
        "to_tcpr_start": None,
        "to_first_compression": None,
        "to_on_scene": None,
    }
    assert audit["benchmarks"] == {"recognition_met": None, "first_compression_met": None}
    assert audit["recognized"] is False
    assert audit["recognition_path"] is None
    assert audit["alerts"] == []  # old call, far outside the alert grace: nothing fires late
    assert unknown.status_code == 404, unknown.text
    assert other_agency.status_code == 404, other_agency.text


async def test_qi_review_corrections_move_the_intervals_and_keep_the_originals(
    server: Server,
) -> None:
    call = "C-REV"
    received = "2026-01-15T14:00:00-05:00"

    def review(event_id: str, when: str, corrections: dict[str, str]) -> dict[str, Any]:
        return event(
            event_id,
            "qi.review",
            when,
            call_id=call,
            source="qi",
            actor="qi-1",
            data={
                "recognizable": True,
                "delay_reasons": ["call_transfer"],
                "corrections": corrections,
            },
        )

    adapter = await server.client("adapter")
    qi = await server.client("qi")
    async with adapter, qi:
        await post(
            adapter,
            [
                event("c1", "call.received", received, call_id=call),
                event("c2", "call.answered", "2026-01-15T14:00:10-05:00", call_id=call),
                event("c3", "ohca.recognized", "2026-01-15T14:00:50-05:00", call_id=call),
                event("c4", "tcpr.started", "2026-01-15T14:01:30-05:00", call_id=call),
                event("c5", "tcpr.first_compression", "2026-01-15T14:02:10-05:00", call_id=call),
            ],
        )
        before = await audit_of(qi, call)

        # The recording shows the call connected 20 s before the CAD said.
        await post(
            qi,
            [
                review(
                    "q1",
                    "2026-01-16T09:00:00-05:00",
                    {"call.received": "2026-01-15T13:59:40-05:00"},
                )
            ],
        )
        corrected = await audit_of(qi, call)

        # A review with an earlier `at`, arriving later, is not the one in force.
        await post(
            qi,
            [
                review(
                    "q2",
                    "2026-01-16T08:00:00-05:00",
                    {"call.received": "2026-01-15T13:58:00-05:00"},
                )
            ],
        )
        stale = await audit_of(qi, call)

        # A later review replaces the earlier determination as a whole.
        await post(
            qi,
            [
                review(
                    "q3",
                    "2026-01-17T09:00:00-05:00",
                    {
                        "call.received": "2026-01-15T18:59:50Z",
                        "ohca.recognized": "2026-01-15T14:01:00-05:00",
                    },
                )
            ],
        )
        latest = await audit_of(qi, call)

    assert instant(before["t0"]) == instant(received)
    assert before["intervals"] == {
        "to_answer": 10.0,
        "to_recognition": 50.0,
        "to_dispatch": None,
        "to_tcpr_start": 90.0,
        "to_first_compression": 130.0,
        "to_on_scene": None,
    }
    assert before["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
    assert before["recognition_path"] == "direct"

    assert instant(corrected["t0"]) == instant("2026-01-15T13:59:40-05:00")
    assert corrected["intervals"] == {
        "to_answer": 30.0,
        "to_recognition": 70.0,
        "to_dispatch": None,
        "to_tcpr_start": 110.0,
        "to_first_compression": 150.0,
        "to_on_scene": None,
    }
    # 150 s is not strictly below the 150 s benchmark.
    assert corrected["benchmarks"] == {"recognition_met": True, "first_compression_met": False}
    assert set(corrected["original_times"]) == {"call.received"}
    assert instant(corrected["original_times"]["call.received"]) == instant(received)
    assert corrected["recognized"] is True
    assert corrected["recognition_path"] == "direct"

    assert stale["t0"] == corrected["t0"]
    assert stale["intervals"] == corrected["intervals"]

    assert instant(latest["t0"]) == instant("2026-01-15T13:59:50-05:00")
    assert latest["intervals"] == {
        "to_answer": 20.0,
        "to_recognition": 70.0,
        "to_dispatch": None,
        "to_tcpr_start": 100.0,
        "to_first_compression": 140.0,
        "to_on_scene": None,
    }
    assert latest["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
    assert set(latest["original_times"]) == {"call.received", "ohca.recognized"}
    assert instant(latest["original_times"]["call.received"]) == instant(received)
    assert instant(latest["original_times"]["ohca.recognized"]) == instant(
        "2026-01-15T14:00:50-05:00"
    )
    assert latest["recognition_path"] == "direct"


# -- measures ------------------------------------------------------------------------------------

POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}


class Feed:
    """Builds the events of many calls: CAD and console kinds for the adapter, EMS and QI for qi."""

    def __init__(self) -> None:
        self.cad: list[dict[str, Any]] = []
        self.qi: list[dict[str, Any]] = []

    def call(
        self,
        call_id: str,
        t0: str,
        *,
        agency: str = "A",
        received: bool = True,
        question: tuple[float, float] | None = None,
        direct: float | None = None,
        nature: float | None = None,
        started: float | None = None,
        compression: float | None = None,
        not_given: tuple[float, str] | None = None,
        ruled_out: bool = False,
        ems: list[tuple[float, dict[str, bool]]] | None = None,
        review: tuple[float, dict[str, Any]] | None = None,
    ) -> None:
        zero = datetime.fromisoformat(t0)
        n = iter(range(1, 100))

        def add(into: list[dict[str, Any]], kind: str, seconds: float, **extra: Any) -> None:
            when = (zero + timedelta(seconds=seconds)).isoformat()
            into.append(event(f"{call_id}-{next(n)}", kind, when, call_id, agency, **extra))

        add(self.cad, "call.received" if received else "call.answered", 0)
        if received:
            add(self.cad, "call.answered", 5)
        if question is not None:
            add(self.cad, "triage.conscious", question[0], data={"answer": "no"})
            add(self.cad, "triage.breathing", question[1], data={"answer": "unsure"})
        if ruled_out:
            add(self.cad, "triage.conscious", 15, data={"answer": "no"})
            add(self.cad, "triage.breathing", 25, data={"answer": "yes"})
        if direct is not None:
            add(self.cad, "ohca.recognized", direct)
        if nature is not None:
            add(self.cad, "call.nature", nature, data={"code": "09-E-01"})
        if started is not None:
            add(self.cad, "tcpr.started", started)
        if compression is not None:
            add(self.cad, "tcpr.first_compression", compression)
        if not_given is not None:
            add(self.cad, "tcpr.not_given", not_given[0], data={"reason": not_given[1]})
        for seconds, outcome in ems or []:
            add(self.qi, "ems.outcome", seconds, source="ems", data=outcome)
        if review is not None:
            add(self.qi, "qi.review", review[0], source="qi", data=review[1])


def expected_rate(
    numerator: int, denominator: int, percent: float | None, goal: float
) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "percent": percent, "goal": goal}


async def test_measures_for_a_period(server: Server) -> None:
    feed = Feed()
    hour = 3600.0
    # In the period [2026-01-01T00:00Z, 2026-02-01T00:00Z):
    # M1: T0 exactly at `from` (written at -05:00); question path, recognised at 40 s.
    feed.call(
        "M1",
        "2025-12-31T19:00:00-05:00",
        question=(20, 40),
        started=70,
        compression=100.5,
        ems=[(hour, POPULATION)],
    )
    # M2: direct recognition at 70 s, first compression at 160 s.
    feed.call(
        "M2",
        "2026-01-11T08:00:00Z",
        direct=70,
        started=120,
        compression=160,
        ems=[(hour, POPULATION)],
    )
    # M3: nature code at 30 s; T-CPR not given (CPR already in progress): out of tcpr_rate.
    feed.call(
        "M3",
        "2026-01-12T08:00:00+01:00",
        nature=30,
        not_given=(45, "cpr_in_progress"),
        ems=[(hour, POPULATION)],
    )
    # M4: no call.received, T0 is the answer; recognised at 100 s, instructions but no compression.
    feed.call(
        "M4",
        "2026-01-13T08:00:00Z",
        received=False,
        question=(60, 100),
        started=110,
        ems=[(hour, POPULATION)],
    )
    # M5: breathing "yes", never recognised; QI says it was not recognisable.
    feed.call(
        "M5",
        "2026-01-14T08:00:00Z",
        ruled_out=True,
        ems=[(hour, POPULATION)],
        review=(
            2 * hour,
            {
                "recognizable": False,
                "nonrecognition_reasons": ["agonal_breathing_reported_as_breathing"],
            },
        ),
    )
    # M6: never recognised; the latest EMS outcome by `at` (posted first) puts it in the population.
    feed.call(
        "M6",
        "2026-01-15T08:00:00Z",
        ems=[
            (2 * hour, POPULATION),
            (hour, {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False}),
        ],
        review=(3 * hour, {"recognizable": True}),
    )
    # M7: recognised, but EMS found no arrest (over-triage); outside the population.
    feed.call(
        "M7",
        "2026-01-16T08:00:00Z",
        direct=50,
        ems=[(hour, {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False})],
    )
    # M8: EMS-witnessed arrest; outside.
    feed.call(
        "M8",
        "2026-01-17T08:00:00Z",
        direct=20,
        compression=60,
        ems=[(hour, {**POPULATION, "ems_witnessed": True})],
    )
    # M9: no EMS outcome at all; outside.
    feed.call("M9", "2026-01-18T08:00:00Z", direct=25, compression=40)
    # M10: arrest without resuscitation attempted; outside.
    feed.call(
        "M10",
        "2026-01-19T08:00:00Z",
        direct=25,
        compression=50,
        ems=[(hour, {**POPULATION, "resuscitation_attempted": False})],
    )
    # Outside the period or the agency, all population calls that would move every measure:
    feed.call("X1", "2025-12-31T23:59:59Z", direct=10, compression=20, ems=[(hour, POPULATION)])
    feed.call("X2", "2026-02-01T00:00:00Z", direct=60, compression=120, ems=[(hour, POPULATION)])
    feed.call(
        "X3", "2026-01-31T20:00:00-05:00", direct=10, compression=20, ems=[(hour, POPULATION)]
    )  # still 31 January at -05:00, but 1 February in UTC
    feed.call(
        "B1",
        "2026-01-20T08:00:00Z",
        agency="B",
        direct=10,
        compression=20,
        ems=[(hour, POPULATION)],
    )

    adapter = await server.client("adapter", "A", "B")
    qi = await server.client("qi", "A", "B")
    async with adapter, qi:
        await post(adapter, feed.cad)
        await post(qi, feed.qi)

        async def measures(**params: str) -> dict[str, Any]:
            response = await qi.get("/api/v1/measures", params={"agency": "A", **params})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        january = await measures(**{"from": "2026-01-01", "to": "2026-02-01"})
        same_as_datetimes = await measures(
            **{"from": "2025-12-31T19:00:00-05:00", "to": "2026-02-01T00:00:00Z"}
        )
        with_x1 = await measures(**{"from": "2025-12-31T23:59:59Z", "to": "2026-02-01"})
        with_x2 = await measures(**{"from": "2026-01-01", "to": "2026-02-01T00:00:00.001Z"})
        x3_at_to = await measures(**{"from": "2026-01-01", "to": "2026-02-01T01:00:00Z"})
        with_x3 = await measures(**{"from": "2026-01-01", "to": "2026-02-01T01:00:00.001Z"})

        # QI finds X2 actually connected a minute earlier, on 31 January: it moves into January.
        await post(
            qi,
            [
                event(
                    "X2-review",
                    "qi.review",
                    "2026-02-02T10:00:00Z",
                    "X2",
                    source="qi",
                    data={
                        "recognizable": True,
                        "corrections": {"call.received": "2026-01-31T23:59:00Z"},
                    },
                )
            ],
        )
        corrected = await measures(**{"from": "2026-01-01", "to": "2026-02-01"})

    # Population M1-M6; recognised M1 (40 s), M2 (70 s), M3 (30 s), M4 (100 s).
    assert january["population"] == 6
    assert january["calls_in_period"] == 10
    assert january["recognition_rate"] == expected_rate(4, 6, 66.7, 75.0)
    # Less M5 (not recognisable): 4 of 5.
    assert january["recognizable_recognition_rate"] == expected_rate(4, 5, 80.0, 95.0)
    # Recognised less M3 (not given): M1, M2, M4; with a first compression M1, M2.
    assert january["tcpr_rate"] == expected_rate(2, 3, 66.7, 75.0)
    # [30, 40, 70, 100]: (40 + 70) / 2.  [100.5, 160]: (100.5 + 160) / 2.
    assert january["median_seconds_to_recognition"] == {"value": 55.0, "n": 4, "benchmark": 90}
    assert january["median_seconds_to_first_compression"] == {
        "value": 130.25,
        "n": 2,
        "benchmark": 150,
    }
    # Two population calls have reviews, neither signed off: drafts, not QI-reviewed yet.
    assert january["qi_reviewed"] == 0
    assert january["reviewed"]["coverage"] == expected_rate(0, 6, 0.0, 100.0)
    assert january["over_triage"] == 1  # M7
    assert january["tcpr_exclusions"] == {"cpr_in_progress": 1}

    def without_bounds(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in ("from", "to")}

    assert without_bounds(same_as_datetimes) == without_bounds(january)
    assert instant(january["from"]) == datetime(2026, 1, 1, tzinfo=UTC)
    assert instant(january["to"]) == datetime(2026, 2, 1, tzinfo=UTC)

    for name, body, population in [
        ("from one second earlier takes X1", with_x1, 7),
        ("to just after X2's T0 takes X2", with_x2, 7),
        ("X3's T0 exactly at `to` is left out", x3_at_to, 7),
        ("to just after X3's T0 takes X2 and X3", with_x3, 8),
    ]:
        assert body["recognition_rate"]["denominator"] == population, name

    # With X2 corrected into January (recognised at 60 + 60 s, first compression at 180 s):
    assert corrected["population"] == 7
    assert corrected["recognition_rate"] == expected_rate(5, 7, 71.4, 75.0)
    assert corrected["recognizable_recognition_rate"] == expected_rate(5, 6, 83.3, 95.0)
    assert corrected["tcpr_rate"] == expected_rate(3, 4, 75.0, 75.0)
    assert corrected["median_seconds_to_recognition"] == {"value": 70.0, "n": 5, "benchmark": 90}
    assert corrected["median_seconds_to_first_compression"] == {
        "value": 160.0,
        "n": 3,
        "benchmark": 150,
    }


async def test_measures_of_an_empty_period_and_bad_dates(server: Server) -> None:
    async with await server.client("admin") as admin:
        await post(admin, [event("e1", "call.received", "2026-01-15T14:00:00Z")])

        empty = await admin.get(
            "/api/v1/measures", params={"agency": "A", "from": "2030-01-01", "to": "2030-02-01"}
        )
        refusals = {}
        for name, params in {
            "impossible month": {"from": "2026-13-01", "to": "2026-02-01"},
            "words": {"from": "last tuesday", "to": "2026-02-01"},
            "naive datetime": {"from": "2026-01-01T00:00:00", "to": "2026-02-01"},
            "impossible day in to": {"from": "2026-01-01", "to": "2026-02-30"},
        }.items():
            refusals[name] = await admin.get("/api/v1/measures", params={"agency": "A", **params})

    assert empty.status_code == 200, empty.text
    body = empty.json()
    assert body["population"] == 0
    assert body["calls_in_period"] == 0
    assert body["recognition_rate"] == expected_rate(0, 0, None, 75.0)
    assert body["recognizable_recognition_rate"] == expected_rate(0, 0, None, 95.0)
    assert body["tcpr_rate"] == expected_rate(0, 0, None, 75.0)
    assert body["median_seconds_to_recognition"] == {"value": None, "n": 0, "benchmark": 90}
    assert body["median_seconds_to_first_compression"] == {"value": None, "n": 0, "benchmark": 150}

    problems = []
    for name, response in refusals.items():
        field = "to" if name.endswith("in to") else "from"
        if response.status_code != 422:
            problems.append(f"{name}: {response.status_code} {response.text}")
        elif response.json().get("detail", {}).get("field") != field:
            problems.append(f"{name}: does not name {field!r}: {response.text}")
    assert not problems, "\n".join(problems)
