"""An EIDO feed end to end: a CAD's NENA-STA-024 notifier, `tcpr adapter run`'s websocket source,
the spool, `POST /api/v1/eido`, the event store. Snapshots repeat facts; each is stored once."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import pytest
from eido_docs import INCIDENT, snapshots
from fake_cad import Notifier
from runner_kit import config_file, until
from support.harness import Server

from cad_adapters.config import ConfigError, load
from cad_adapters.runner import run


async def test_snapshots_from_a_subscription_are_stored_once(
    server: Server, notifier: Notifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAD_NOTIFIER_TOKEN", "cad-secret")
    source = {"type": "eido-websocket", "url": notifier.url, "token_env": "CAD_NOTIFIER_TOKEN"}
    token = await server.token("adapter", "EMS1")
    config = load(config_file(tmp_path, server.url, token, source, {"type": "eido"}, "EMS1"))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))

    connection, _, request = await notifier.subscribed()
    assert request["requestType"] == "EIDO"
    assert notifier.headers == ["Bearer cad-secret"]  # the CAD's token, not the service's
    one, two, three = snapshots()
    broken = copy.deepcopy(one)
    broken["callComponent"][0]["callStartTimestamp"] = "2026-03-02T09:00:00"  # no offset
    for n, documents in enumerate([(one,), (one, two), (broken,), (three, three)]):
        answer = await notifier.notify(connection, f"tx-{n}", *documents)
        # Acknowledged once spooled: the bad one too, kept as a reject rather than re-sent.
        assert answer == {"transactionId": f"tx-{n}", "statusCode": 200, "statusText": "OK"}

    async def stored() -> list[str]:
        return [e.kind for e in await server.services.store.call_events("EMS1", INCIDENT)]

    async def settled() -> bool:
        return len(await stored()) >= 9

    await until(settled, what="the incident's nine facts")
    stop.set()
    report = await running
    assert (report.read, report.bad, report.delivered, report.rejects) == (6, 1, 5, 1)
    # Two call legs received, the transfer and the receiving agency's answer, the nature code, two
    # units each dispatched and on scene: each once, however many snapshots restated it.
    assert sorted(await stored()) == [
        "call.answered",
        "call.nature",
        *["call.received"] * 2,
        "call.transferred",
        *["unit.dispatched"] * 2,
        *["unit.on_scene"] * 2,
    ]
    async with await server.client("admin", "EMS1") as admin:
        kept = (await admin.get("/api/v1/rejects", params={"agency": "EMS1"})).json()["rejects"]
    assert len(kept) == 1
    assert kept[0]["field"] == "callComponent[0].callStartTimestamp"
    assert kept[0]["reason"].startswith(f"{notifier.url} transaction tx-2: ")
    assert json.loads(kept[0]["body"])["callComponent"][0]["callStartTimestamp"].endswith("00:00")


async def test_a_missing_cad_token_stops_the_adapter_before_it_starts(
    server: Server, notifier: Notifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAD_NOTIFIER_TOKEN", raising=False)
    source = {"type": "eido-websocket", "url": notifier.url, "token_env": "CAD_NOTIFIER_TOKEN"}
    token = await server.token("adapter", "EMS1")
    config = load(config_file(tmp_path, server.url, token, source, {"type": "eido"}, "EMS1"))
    with pytest.raises(ConfigError, match=r"source\.token_env"):
        await run(config)
    assert notifier.connections == 0


async def test_what_is_not_an_eido_is_kept_as_a_reject(
    server: Server, notifier: Notifier, tmp_path: Path
) -> None:
    """A notification mixing an EIDO and a stray value, and a message that is not JSON: the
    EIDO is stored, the rest kept in the reject store with the raw text; nothing vanishes."""
    source = {"type": "eido-websocket", "url": notifier.url}
    token = await server.token("adapter", "EMS1")
    config = load(config_file(tmp_path, server.url, token, source, {"type": "eido"}, "EMS1"))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    connection, _, _ = await notifier.subscribed()
    answer = await notifier.notify(connection, "tx-mixed", snapshots()[0], 42)
    assert answer["statusCode"] == 200
    await connection.send("this is not json")

    async def kept() -> bool:
        async with await server.client("admin", "EMS1") as admin:
            response = await admin.get("/api/v1/rejects", params={"agency": "EMS1"})
        return len(response.json()["rejects"]) == 2

    await until(kept, what="the two rejects")
    stop.set()
    report = await running
    assert (report.delivered, report.rejects, report.spooled) == (1, 2, 0)
    assert await server.services.store.call_events("EMS1", INCIDENT)
    async with await server.client("admin", "EMS1") as admin:
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "EMS1"})).json()["rejects"]
    bodies = sorted(r["body"] for r in rejects)
    assert bodies == ["42", "this is not json"]
    assert any("transaction tx-mixed" in r["reason"] for r in rejects)
