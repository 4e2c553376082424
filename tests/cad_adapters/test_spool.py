"""The runner's spool: durable until acknowledged, resumable, with a dead-letter file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cad_adapters.spool import Entry, Spool


def _spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "s.sqlite", tmp_path / "dead.jsonl")


def test_entries_survive_a_reopen_until_acknowledged(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.put(
        [
            Entry("events", [{"event_id": "e1"}], "feed.csv", "line 2 (byte 40)"),
            Entry("reject", {"raw": "x", "reason": "bad", "field": None}, "feed.csv", "line 3"),
        ],
        ("feed.csv", 120, "d1"),
    )
    spool.close()

    spool = _spool(tmp_path)
    pending = spool.pending(10)
    assert [s.entry.kind for s in pending] == ["events", "reject"]
    assert pending[0].entry.body == [{"event_id": "e1"}]
    assert pending[0].entry.position == "line 2 (byte 40)"
    assert spool.mark("feed.csv") == (120, "d1")
    assert spool.mark("other.csv") == (0, "")

    spool.ack([pending[0].seq])
    spool.close()
    spool = _spool(tmp_path)
    assert [s.entry.kind for s in spool.pending(10)] == ["reject"]
    assert spool.depth() == 1


def test_a_failed_put_stores_neither_entries_nor_mark(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    unserialisable = Entry("events", [{"at": object()}], "feed.csv", "line 1")
    with pytest.raises(TypeError):
        spool.put([Entry("events", [], "feed.csv", "line 0"), unserialisable], ("feed.csv", 9, "d"))
    assert spool.depth() == 0
    assert spool.mark("feed.csv") == (0, "")


def test_dead_letters_are_noted_once_and_removed_only_when_final(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.put([Entry("reject", {"raw": "r", "reason": "why", "field": "at"}, "f", "line 7")])
    kept = spool.pending(1)[0]
    spool.note_dead(kept, "service unavailable", keep=True)
    again = spool.pending(1)[0]
    assert again.noted
    spool.note_dead(again, "service unavailable", keep=True)  # not written twice
    assert spool.depth() == 1
    spool.note_dead(again, "refused by the service", keep=False)
    assert spool.depth() == 0

    lines = spool.dead_letters()
    assert [line["reason"] for line in lines] == ["service unavailable", "refused by the service"]
    assert lines[0]["position"] == "line 7" and lines[0]["body"]["raw"] == "r"
    raw = (tmp_path / "dead.jsonl").read_text().splitlines()
    assert all(json.loads(line)["origin"] == "f" for line in raw)


def test_forget_drops_a_finished_sources_mark(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.put([], ("a.csv", 10, "d10"))
    spool.put([], ("a.csv", 25, "d25"))
    assert spool.mark("a.csv") == (25, "d25")
    spool.forget("a.csv")
    assert spool.mark("a.csv") == (0, "")
