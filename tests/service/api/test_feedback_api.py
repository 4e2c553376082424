"""`GET /api/v1/feedback` and `feedback.acknowledged` (DESIGN.md §2, §8): a telecommunicator reads
the reviews of the calls they handled, acknowledges one, and sees nobody else's."""

from __future__ import annotations

from typing import Any

import httpx
from support.harness import Server, event

from service.store.own_calls import own_call_ids

T0 = "2026-02-03T10:00:00+00:00"
OUTCOME = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False, "rosc": True}


async def client_named(server: Server, role: str, name: str, *agencies: str) -> httpx.AsyncClient:
    token = await server.services.tokens.create(role, list(agencies or ("A",)), name)
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def handled_call(call_id: str, tc: str, agency: str = "A") -> list[dict[str, Any]]:
    """A call tc answered and recognised, with T-CPR and an EMS outcome."""
    return [
        event(f"{call_id}-r", "call.received", T0, call_id, agency, data={"psap": "P1"}),
        event(f"{call_id}-a", "call.answered", "2026-02-03T10:00:05+00:00", call_id, agency,
              actor=tc),
        event(f"{call_id}-c", "triage.conscious", "2026-02-03T10:00:30+00:00", call_id, agency,
              source="console", actor=tc, data={"answer": "no"}),
        event(f"{call_id}-o", "ohca.recognized", "2026-02-03T10:00:50+00:00", call_id, agency,
              source="console", actor=tc),
        event(f"{call_id}-f", "tcpr.first_compression", "2026-02-03T10:02:00+00:00", call_id,
              agency, source="console", actor=tc),
        event(f"{call_id}-e", "call.ended", "2026-02-03T10:10:00+00:00", call_id, agency),
        event(f"{call_id}-x", "ems.outcome", "2026-02-03T11:00:00+00:00", call_id, agency,
              source="ems", data=OUTCOME),
    ]  # fmt: skip


def review(call_id: str, when: str, feedback: str, agency: str = "A") -> dict[str, Any]:
    return event(
        f"{call_id}-rev-{when}", "qi.review", when, call_id, agency, source="qi", actor="rev-1",
        data={"recognizable": True, "feedback": feedback, "signed_off": True},
    )  # fmt: skip


def acknowledgement(call_id: str, review_id: str, tc: str) -> dict[str, Any]:
    return event(
        f"{call_id}-ack-{review_id}", "feedback.acknowledged", "2026-02-05T09:00:00+00:00",
        call_id, source="console", actor=tc, data={"review": review_id},
    )  # fmt: skip


async def test_a_telecommunicator_reads_and_acknowledges_their_feedback(server: Server) -> None:
    adapter = await server.client("adapter", "A", "B")
    qi = await server.client("qi", "A", "B")
    tc1 = await client_named(server, "telecommunicator", "tc-1", "A")
    tc2 = await client_named(server, "telecommunicator", "tc-2", "A")
    tc1_b = await client_named(server, "telecommunicator", "tc-1", "B")
    async with adapter, qi, tc1, tc2, tc1_b:
        posted = [*handled_call("F1", "tc-1"), *handled_call("F2", "tc-1")]
        posted += [*handled_call("F3", "tc-2"), *handled_call("FB", "tc-1", "B")]
        assert (await adapter.post("/api/v1/events", json=posted)).status_code == 200
        assert (await tc1.get("/api/v1/feedback")).json() == []  # nothing reviewed yet
        reviews = [
            review("F1", "2026-02-04T08:00:00+00:00", "an early first draft"),
            review("F1", "2026-02-04T09:00:00+00:00", "Good recognition at 50 s."),
            review("F2", "2026-02-04T12:00:00+00:00", "Ask about breathing sooner."),
            review("F3", "2026-02-04T10:00:00+00:00", "for tc-2 only"),
            review("FB", "2026-02-04T10:00:00+00:00", "agency B's", "B"),
        ]
        assert (await qi.post("/api/v1/events", json=reviews)).status_code == 200

        response = await tc1.get("/api/v1/feedback")
        assert response.status_code == 200, response.text
        items = response.json()
        assert [(i["call_id"], i["feedback"]) for i in items] == [
            ("F2", "Ask about breathing sooner."),
            ("F1", "Good recognition at 50 s."),  # the review in force, not the first draft
        ]
        first = items[1]
        assert first["review"] == "F1-rev-2026-02-04T09:00:00+00:00"
        assert first["reviewed_at"] == "2026-02-04T09:00:00+00:00"
        assert first["agency"] == "A" and first["t0"] == T0
        assert first["intervals"]["to_recognition"] == 50
        assert first["intervals"]["to_first_compression"] == 120
        assert first["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
        assert first["benchmark_profile"] == "aha-2020"
        assert first["thresholds"] == {"recognition_s": 90, "first_compression_s": 150}
        assert first["recognized"] is True and first["signed_off"] is True
        assert first["ems_outcome"] == {"ohca": True, "rosc": True}
        assert [i["acknowledged"] for i in items] == [False, False]

        ack = acknowledgement("F1", first["review"], "tc-1")
        assert (await tc1.post("/api/v1/events", json=ack)).status_code == 200
        items = (await tc1.get("/api/v1/feedback")).json()
        assert [(i["call_id"], i["acknowledged"]) for i in items] == [("F2", False), ("F1", True)]

        # Another telecommunicator sees only their own call's review; agency B's stays in B.
        assert [i["call_id"] for i in (await tc2.get("/api/v1/feedback")).json()] == ["F3"]
        assert [i["call_id"] for i in (await tc1_b.get("/api/v1/feedback")).json()] == ["FB"]
        refused = await tc1.get("/api/v1/feedback", params={"agency": "B"})
        assert refused.status_code == 403


async def test_feedback_is_the_token_holders_own_whatever_the_role(server: Server) -> None:
    adapter = await server.client("adapter", "A")
    qi = await server.client("qi", "A")
    nameless = await server.client("admin", "A")  # named test-admin: handled no call
    supervisor = await client_named(server, "supervisor", "tc-9", "A")
    async with adapter, qi, nameless, supervisor:
        assert (await adapter.post("/api/v1/events", json=handled_call("S1", "tc-9"))).is_success
        await qi.post("/api/v1/events", json=review("S1", "2026-02-04T08:00:00+00:00", "ok"))
        assert [i["call_id"] for i in (await supervisor.get("/api/v1/feedback")).json()] == ["S1"]
        assert (await nameless.get("/api/v1/feedback")).json() == []
        refused = await adapter.get("/api/v1/feedback")
        assert refused.status_code == 403


async def test_an_unnamed_token_has_no_feedback(server: Server) -> None:
    adapter = await server.client("adapter", "A")
    unnamed = await server.services.tokens.create("telecommunicator", ["A"])
    async with (
        adapter,
        httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {unnamed}"}, timeout=30
        ) as tc,
    ):
        await adapter.post("/api/v1/events", json=handled_call("U1", "tc-1"))
        response = await tc.get("/api/v1/feedback")
        assert response.status_code == 200 and response.json() == []


async def test_an_acknowledgement_names_the_review(server: Server) -> None:
    """The reader's console posts it, or an adapter relays it (DESIGN.md §8: an adapter posts
    every kind but `qi.review`); either way it names the review it acknowledges."""
    adapter = await server.client("adapter", "A")
    tc = await server.client("telecommunicator", "A")
    async with adapter, tc:
        ack = acknowledgement("N1", "N1-rev", "test-telecommunicator")
        missing = {**ack, "data": {}}
        response = await tc.post("/api/v1/events", json=missing)
        assert response.status_code == 422
        assert "review" in response.text
        assert (await tc.post("/api/v1/events", json=ack)).status_code == 200
        relayed = {**ack, "event_id": "N1-ack-relayed"}
        assert (await adapter.post("/api/v1/events", json=relayed)).status_code == 200


async def test_nobody_acknowledges_a_colleagues_feedback(server: Server) -> None:
    """An acknowledgement is the reader's own: one posted under a colleague's name is refused,
    and one a colleague posts under their own name does not mark my review read."""
    adapter = await server.client("adapter", "A")
    qi = await server.client("qi", "A")
    bob = await client_named(server, "telecommunicator", "bob", "A")
    alice = await client_named(server, "telecommunicator", "alice", "A")
    async with adapter, qi, bob, alice:
        assert (await adapter.post("/api/v1/events", json=handled_call("K1", "bob"))).is_success
        rev = review("K1", "2026-02-04T08:00:00+00:00", "for bob")
        assert (await qi.post("/api/v1/events", json=rev)).is_success
        as_bob = acknowledgement("K1", rev["event_id"], "bob")
        refused = await alice.post("/api/v1/events", json=as_bob)
        assert refused.status_code == 403 and "actor" in refused.text, refused.text
        unnamed = {**as_bob, "event_id": "K1-ack-unnamed"}
        del unnamed["actor"]
        assert (await alice.post("/api/v1/events", json=unnamed)).status_code == 403
        as_alice = {**as_bob, "event_id": "K1-ack-alice", "actor": "alice"}
        assert (await alice.post("/api/v1/events", json=as_alice)).status_code == 200
        # Acknowledging is not handling the call: bob's feedback stays his alone.
        assert (await alice.get("/api/v1/feedback")).json() == []
        assert [i["acknowledged"] for i in (await bob.get("/api/v1/feedback")).json()] == [False]
        assert (await bob.post("/api/v1/events", json=as_bob)).status_code == 200
        assert [i["acknowledged"] for i in (await bob.get("/api/v1/feedback")).json()] == [True]


async def test_a_console_acts_only_in_its_holders_name(server: Server) -> None:
    """A console event in a colleague's name is refused naming `actor`: it would misattribute the
    record, and make the colleague's reviewed call one's "own" and its feedback readable."""
    adapter = await server.client("adapter", "A")
    qi = await server.client("qi", "A")
    alice = await client_named(server, "telecommunicator", "alice", "A")
    async with adapter, qi, alice:
        assert (await adapter.post("/api/v1/events", json=handled_call("J1", "bob"))).is_success
        rev = review("J1", "2026-02-04T08:00:00+00:00", "for bob")
        assert (await qi.post("/api/v1/events", json=rev)).is_success
        as_bob = event("J1-c2", "tcpr.started", "2026-02-03T10:02:00+00:00", "J1",
                       source="console", actor="bob")  # fmt: skip
        refused = await alice.post("/api/v1/events", json=as_bob)
        assert refused.status_code == 403 and refused.json()["field"] == "actor", refused.text
        # In her own name, or in none, the event stands: what she did is hers, in the chained log.
        own = {**as_bob, "event_id": "J1-c3", "actor": "alice"}
        assert (await alice.post("/api/v1/events", json=own)).status_code == 200
        unnamed = {**as_bob, "event_id": "J1-c4"}
        del unnamed["actor"]
        assert (await alice.post("/api/v1/events", json=unnamed)).status_code == 200


async def test_a_token_issued_without_a_name_posts_console_events_in_any_name(
    server: Server,
) -> None:
    """`tcpr token create` takes `--name` as optional (DESIGN.md §8) and `actor` is optional
    (§2): a console on a token that names nobody has only the events' `actor` to say who acts."""
    unnamed = await server.services.tokens.create("telecommunicator", ["A"])
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {unnamed}"}, timeout=30
    ) as console:
        answer = event("Q1-c1", "triage.conscious", "2026-02-03T10:00:20+00:00", "Q1",
                       source="console", actor="tc-114", data={"answer": "no"})  # fmt: skip
        response = await console.post("/api/v1/events", json=answer)
        assert response.status_code == 200, response.text
    (stored,) = await server.services.store.call_events("A", "Q1")
    assert stored.actor == "tc-114"


async def test_only_reviewed_calls_are_read_for_my_reviews(server: Server) -> None:
    """My reviews folds the reviewed calls only: a telecommunicator answers thousands of calls a
    year, a handful of them arrests that QI reviews, and the panel opens the list between calls."""
    adapter = await server.client("adapter", "A")
    qi = await server.client("qi", "A")
    async with adapter, qi:
        posted = [*handled_call("V1", "tc-v"), *handled_call("V2", "tc-v")]
        assert (await adapter.post("/api/v1/events", json=posted)).is_success
        rev = review("V2", "2026-02-04T08:00:00+00:00", "ok")
        assert (await qi.post("/api/v1/events", json=rev)).is_success
    assert await own_call_ids(server.services.sessions, ["A"], ["tc-v"]) == {"A": ["V2"]}
