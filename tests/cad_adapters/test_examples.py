"""The worked example of docs/adapters.md stays true: the mapping shown is the file; it reads
its sample."""

from __future__ import annotations

from support.paths import REPO

from cad_adapters.config import load
from cad_adapters.runner import check

ROOT = REPO
EXAMPLES = ROOT / "docs" / "examples"


def test_the_reference_shows_the_example_files_verbatim() -> None:
    reference = (ROOT / "docs" / "adapters.md").read_text("utf-8")
    for name in ("metro911.toml", "metro911-adapter.toml"):
        assert (EXAMPLES / name).read_text("utf-8") in reference, f"docs/adapters.md: {name}"


def test_the_example_mapping_reads_its_sample_export() -> None:
    config = load(EXAMPLES / "metro911-adapter.toml")
    assert config.format.mapping == EXAMPLES / "metro911.toml"
    results = check(config, EXAMPLES / "metro911-export.txt")
    assert [r["position"] for r in results] == ["line 1", "line 2", "line 3"]
    assert all("error" not in r for r in results)
    events = [e for r in results for e in r["events"]]
    first = events[0]
    assert (first["call_id"], first["kind"], first["at"]) == (
        "24-001",
        "call.received",
        "2024-03-14T09:30:02-04:00",
    )
    assert {e["data"]["unit"] for e in events if e["kind"] == "unit.dispatched"} == {
        "M12",
        "E7",
        "M4",
    }
    nature = [e["data"] for e in events if e["kind"] == "call.nature" and e["call_id"] == "24-002"]
    assert nature == [{"code": "31-D-02", "text": "UNCONSCIOUS – FAINTING"}]  # read as cp1252
    transfer = next(e for e in events if e["kind"] == "call.transferred")
    assert transfer["data"] == {"to": "COUNTY-EMS"}
