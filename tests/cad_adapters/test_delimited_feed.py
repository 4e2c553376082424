"""A real CAD export through `tcpr adapter`: the RVFD calls-for-service file with the `rvfd`
preset, every good row stored once and every bad one kept in the reject store with its reason."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from runner_kit import config_file
from support.cluster import tcpr  # the installed `tcpr` command
from support.harness import Server

from cad_adapters.config import load
from cad_adapters.runner import run

RVFD = {"type": "delimited", "preset": "rvfd"}


def _rows(sample: Path) -> list[dict[str, str]]:
    with sample.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def test_the_rvfd_export_is_stored_once_and_its_bad_rows_kept(
    server: Server, shared: Path, tmp_path: Path
) -> None:
    sample = shared / "samples" / "rvfd_calls_2010_2020_subset.csv"
    rows = _rows(sample)
    # Rows with no unit time at all cannot be placed in time: they must be rejects.
    timeless = [
        r["incident_num"]
        for r in rows
        if r["Unit_Dispatch_Times"] == "NULL" and r["Unit_Arrive_Times"] == "NULL"
    ]
    source = {"type": "file", "path": str(sample)}
    token = await server.token("adapter", "RVFD")
    path = config_file(tmp_path, server.url, token, source, RVFD, agency="RVFD")
    config = load(path)

    report = await run(config)

    assert report.read == len(rows) + 1  # and the header line
    assert (report.bad, report.rejects, report.spooled) == (len(timeless), len(timeless), 0)
    async with await server.client("admin", "RVFD") as admin:
        kept = (
            await admin.get("/api/v1/rejects", params={"agency": "RVFD", "limit": 1000})
        ).json()["rejects"]
    assert sorted(r["body"].split(",")[1] for r in kept) == sorted(timeless)
    assert all("no time in the row" in r["reason"] and " line " in r["reason"] for r in kept)

    # Incident 10000788 (9E1), checked by hand against the export.
    events = await server.services.store.call_events("RVFD", "10000788")
    kinds = sorted((e.kind, e.data.get("unit", e.data.get("code"))) for e in events)
    assert kinds == sorted(
        [("call.nature", "9E1")]
        + [("unit.dispatched", u) for u in ("MALC1", "RAYM10", "M3")]
        + [("unit.on_scene", "MALC1")]
    )
    on_scene = next(e for e in events if e.kind == "unit.on_scene")
    assert on_scene.at.isoformat() == "2010-01-13T18:40:57-06:00"

    # Read once more from the top (a new spool): every event is a duplicate, nothing is added.
    before = await server.services.store.high_water()
    again = load(path)
    again.spool.path = tmp_path / "second.spool.sqlite"
    report = await run(again)
    assert report.bad == len(timeless) and report.spooled == 0
    assert await server.services.store.high_water() == before


def test_adapter_check_prints_each_rows_events_or_error(shared: Path, tmp_path: Path) -> None:
    sample = shared / "samples" / "rvfd_calls_2010_2020_subset.csv"
    source = {"type": "file", "path": str(sample)}
    path = config_file(
        tmp_path, "http://unused", "t", source, {"type": "delimited", "preset": "rvfd"}
    )
    out = subprocess.run(
        [*tcpr(), "adapter", "check", str(path), str(sample), "--limit", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.splitlines()
    assert out.returncode == 1  # the export's second line has no time: an error is shown
    assert len(lines) == 3
    assert '"position": "line 2"' in lines[0] and "no time in the row" in lines[0]
    assert '"events": [' in lines[1] and '"kind": "call.nature"' in lines[1]
