"""What the panels read besides the websocket: the day's running figures and the prompt files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.harness import Server, event, service_settings, start_server
from support.paths import REPO


def when(t0: datetime, seconds: float) -> str:
    return (t0 + timedelta(seconds=seconds)).isoformat()


async def test_running_figures_for_the_day(server: Server) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    fast = [
        event("f1", "call.received", when(t0, 0), call_id="F"),
        event("f2", "ohca.recognized", when(t0, 40), call_id="F"),
        event("f3", "tcpr.first_compression", when(t0, 100), call_id="F"),
    ]
    slow = [
        event("s1", "call.received", when(t0, 0), call_id="S"),
        event("s2", "call.nature", when(t0, 120), call_id="S", data={"code": "09-E-01"}),
        event("s3", "tcpr.first_compression", when(t0, 200), call_id="S"),
    ]
    other = [event("o1", "call.received", when(t0, 0), call_id="O")]
    yesterday = [event("y1", "call.received", when(t0 - timedelta(days=1), 0), call_id="Y")]
    async with await server.client() as client:
        for batch in (fast, slow, other, yesterday):
            assert (await client.post("/api/v1/events", json=batch)).status_code == 200
    since = (t0 - timedelta(minutes=1)).isoformat()
    async with await server.client("supervisor") as supervisor:
        response = await supervisor.get("/api/v1/summary", params={"agency": "A", "from": since})
    assert response.status_code == 200
    figures = response.json()
    assert figures["calls"] == 3
    assert figures["recognized"] == 2
    assert figures["recognized_in_time"] == 1
    assert figures["first_compressions"] == 2
    assert figures["first_compressions_in_time"] == 1
    assert figures["median_seconds_to_recognition"] == {"value": 80.0, "n": 2, "benchmark": 90}
    assert figures["median_seconds_to_first_compression"]["value"] == 150.0


async def test_running_figures_need_a_watching_role_and_the_agency(server: Server) -> None:
    params = {"agency": "A", "from": "2026-01-01"}
    async with await server.client("adapter") as adapter:
        assert (await adapter.get("/api/v1/summary", params=params)).status_code == 403
    async with await server.client("supervisor", "B") as foreign:
        assert (await foreign.get("/api/v1/summary", params=params)).status_code == 403


async def test_shipped_prompts_in_english_and_spanish(server: Server) -> None:
    async with await server.client() as client:
        en = (await client.get("/ui/prompts/en.json")).json()
        es = (await client.get("/ui/prompts/es.json")).json()
        missing = await client.get("/ui/prompts/xx.json")
    assert en["questions"]["breathing"] == "Is the patient breathing normally?"
    assert es["questions"]["breathing"].startswith("¿Está respirando")
    for prompts in (en, es):
        assert set(prompts["steps"]) == {"adult", "child", "infant"}
        assert set(prompts["not_given_reasons"]) == {
            "cpr_in_progress",
            "caller_unable",
            "cannot_position",
            "caller_refused",
            "unsafe",
            "hung_up",
            "other",
        }
    assert set(en) == set(es)
    assert missing.status_code == 404


async def test_the_agency_pack_in_force_wins(sqlite_url: str, tmp_path: Path) -> None:
    """An agency's signed pack over the shipped sample, from its `effective_from` on."""
    shipped = REPO / "ui" / "prompts" / "tcpr-sample-en"
    texts = json.loads((shipped / "texts.json").read_text())
    texts["questions"]["conscious"] = "Is the person awake and talking?"
    manifest = {
        "id": "kce-tcpr",
        "version": "2026-03",
        "language": "en",
        "signed_by": "Dr. A. Medina, medical director",
        "signed_at": "2026-02-20T10:00:00-06:00",
        "effective_from": "2026-03-01T00:00:00-06:00",
    }
    later = {**manifest, "version": "2099-01", "effective_from": "2099-01-01T00:00:00Z"}
    for name, m in (("2026-03", manifest), ("2099-01", later)):
        folder = tmp_path / "packs" / "A" / name
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps(m))
        (folder / "texts.json").write_text(json.dumps(texts))
    running = await start_server(service_settings(sqlite_url, prompts_dir=tmp_path / "packs"))
    try:
        async with await running.client("telecommunicator", "A") as tc:
            en = (await tc.get("/api/v1/protocols", params={"agency": "A"})).json()
            es = await tc.get("/api/v1/protocols", params={"agency": "A", "language": "es"})
            xx = await tc.get("/api/v1/protocols", params={"agency": "A", "language": "xx"})
            other = await tc.get("/api/v1/protocols", params={"agency": "B"})
        assert en["manifest"]["protocol"] == "kce-tcpr@2026-03"  # 2099 is not in force yet
        assert en["manifest"]["signed_by"] == "Dr. A. Medina, medical director"
        assert en["manifest"]["sample"] is False
        assert en["texts"]["questions"]["conscious"] == "Is the person awake and talking?"
        assert en["languages"] == ["en", "es"]
        # No Spanish pack of its own: the shipped sample, which says it is one.
        assert es.json()["manifest"]["protocol"] == "tcpr-sample@2026-12"
        assert es.json()["manifest"]["sample"] is True
        assert xx.status_code == 404 and "language" in xx.text
        assert other.status_code == 403
        async with await running.client("qi", "A") as qi:
            trend = (await qi.get("/api/v1/measures/trend", params={"agency": "A"})).json()
        assert [c["protocol"] for c in trend["protocol_changes"]] == [
            "kce-tcpr@2026-03",
            "kce-tcpr@2099-01",
        ]
    finally:
        await running.stop()
