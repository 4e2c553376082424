"""T-CPR protocol packs (service/protocols.py): what `tcpr prompts check` refuses, which pack is in
force, and the shipped English and Spanish samples saying the same thing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from service.protocols import SHIPPED, Library, check, load

SAMPLE_EN = SHIPPED / "tcpr-sample-en"


def write_pack(folder: Path, **manifest: Any) -> Path:
    folder.mkdir(parents=True)
    base = json.loads((SAMPLE_EN / "manifest.json").read_text())
    for key in ("sample", "notes", "director_must_decide"):
        base.pop(key)
    base.update(manifest)
    (folder / "manifest.json").write_text(
        json.dumps({k: v for k, v in base.items() if v is not None})
    )
    (folder / "texts.json").write_text((SAMPLE_EN / "texts.json").read_text())
    return folder


def test_the_shipped_packs_pass_their_own_check() -> None:
    for language in ("en", "es"):
        assert check(SHIPPED / f"tcpr-sample-{language}") == []
        pack = load(SHIPPED / f"tcpr-sample-{language}")
        assert (pack.protocol, pack.language, pack.sample) == (
            "tcpr-sample@2026-12",
            language,
            True,
        )
        assert pack.decisions["adult_compression_only"] is True


def test_english_and_spanish_say_the_same_thing() -> None:
    en = json.loads((SHIPPED / "tcpr-sample-en" / "texts.json").read_text())
    es = json.loads((SHIPPED / "tcpr-sample-es" / "texts.json").read_text())

    def numbers(lines: list[str]) -> list[list[str]]:
        return [re.findall(r"\d+(?:[.,]\d+)?", line.replace(",", ".")) for line in lines]

    for variant in ("adult", "child", "infant"):
        assert len(en["steps"][variant]) == len(es["steps"][variant])
        # Every depth, count and time in the same place, in the same units (cm with inches).
        assert numbers(en["steps"][variant]) == numbers(es["steps"][variant]), variant
        for lines in (en["steps"][variant], es["steps"][variant]):
            depth = next(line for line in lines if " cm " in line)
            assert "pulgada" in depth or "inch" in depth
    assert numbers(en["rescue_breaths"]["steps"]) == numbers(es["rescue_breaths"]["steps"])


def test_the_aha_points_a_director_must_decide_are_in_the_sample() -> None:
    en = json.loads((SHIPPED / "tcpr-sample-en" / "texts.json").read_text())
    manifest = json.loads((SHIPPED / "tcpr-sample-en" / "manifest.json").read_text())
    adult = " ".join(en["steps"]["adult"]).lower()
    assert "at least 5 cm" in adult and "every 2 minutes" in adult and "speaker" in adult
    assert "breath" not in adult  # compression-only for adults
    assert "follow its voice" in en["aed_arrived"]
    decided = " ".join(manifest["director_must_decide"]).lower()
    for point in (
        "compression-only",
        "rescue breaths",
        "asphyxial",
        "aed",
        "speakerphone",
        "counting aloud",
        "every 2 minutes",
    ):
        assert point in decided, point


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ({"signed_by": None}, "manifest.json: signed_by: required"),
        ({"version": "march 2026"}, "manifest.json: version: 'march 2026' is not allowed"),
        (
            {"effective_from": "2026-03-01T00:00:00"},
            "manifest.json: effective_from: '2026-03-01T00:00:00' has no UTC offset",
        ),
        (
            {"decisions": {"rescue_breaths_child": "yes"}},
            "manifest.json: decisions.rescue_breaths_child: true or false",
        ),
        (
            {"decisions": {"mouth_to_mouth": True}},
            "manifest.json: decisions.mouth_to_mouth: not one of",
        ),
        ({"colour": "red"}, "manifest.json: colour: not a manifest field"),
    ],
)
def test_check_names_each_manifest_problem(
    tmp_path: Path, manifest: dict[str, Any], problem: str
) -> None:
    folder = write_pack(tmp_path / "p", **manifest)
    assert any(p.startswith(problem) for p in check(folder)), check(folder)


def test_check_names_missing_and_unknown_texts(tmp_path: Path) -> None:
    folder = write_pack(tmp_path / "p")
    texts = json.loads((folder / "texts.json").read_text())
    del texts["steps"]["infant"]
    texts["steps"]["adult"][2] = " "
    texts["questons"] = {}
    (folder / "texts.json").write_text(json.dumps(texts))
    assert sorted(check(folder)) == [
        "texts.json: questons: not a key of the shipped texts",
        "texts.json: steps.adult[2]: a non-blank line",
        "texts.json: steps.infant: missing",
    ]


def test_the_pack_in_force_is_the_agencys_latest_effective_one(tmp_path: Path) -> None:
    root = tmp_path / "packs"
    write_pack(root / "A" / "v1", id="kce", version="1", effective_from="2026-01-01T00:00:00Z")
    write_pack(root / "A" / "v2", id="kce", version="2", effective_from="2026-06-01T00:00:00Z")
    write_pack(
        root / "A" / "es1",
        id="kce",
        version="1",
        language="es",
        effective_from="2026-09-01T00:00:00Z",
    )
    library = Library(root)
    assert library.in_force("A", "en", datetime(2026, 5, 31, tzinfo=UTC)).protocol == "kce@1"
    assert library.in_force("A", "en", datetime(2026, 6, 1, tzinfo=UTC)).protocol == "kce@2"
    # Before its own Spanish pack takes effect, and for another agency: the shipped sample.
    assert library.in_force("A", "es", datetime(2026, 8, 1, tzinfo=UTC)).sample is True
    assert library.in_force("B", "en").protocol == "tcpr-sample@2026-12"
    assert library.in_force("A", "fr") is None
    assert [m["protocol"] for m in library.history(["A"])] == ["kce@1", "kce@2", "kce@1"]


def test_tcpr_prompts_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_pack(tmp_path / "good", id="kce", version="2026-03")
    assert main(["prompts", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "ok: kce@2026-03 (en), signed by" in out
    bad = write_pack(tmp_path / "bad", signed_at="yesterday")
    assert main(["prompts", "check", str(bad)]) == 1
    assert "manifest.json: signed_at: 'yesterday' is not an RFC 3339" in capsys.readouterr().err
    assert main(["prompts", "check", str(SHIPPED)]) == 0  # a folder of packs: each checked
    assert main(["prompts", "check", str(tmp_path / "nothing")]) == 1
