"""T-CPR protocol packs: the instruction texts a medical director signs, per agency and language.

The AHA requires a designated medical director who issues the T-CPR protocol. A **pack** is a
folder holding `manifest.json` (who signed which version, and from when it is in force) and
`texts.json` (every line the panel shows or has the telecommunicator read). Packs are versioned
and never edited in place: a new version is a new folder with a later `effective_from`, so an
audit can always say which signed text a caller was coached with (`tcpr.started` carries the
pack's `id@version` and language).

Where packs come from:
- the shipped sample packs, `ui/prompts/<pack>/` (English and Spanish), for agencies without
  their own; they are a project's sample, signed by no medical director, and say so;
- an agency's own, `<TCPR_PROMPTS_DIR>/<AGENCY>/<pack>/`.
For an agency and a language the pack **in force** is its own pack of that language with the
latest `effective_from` not after now, else the shipped one. `tcpr prompts check DIR` checks a
pack before a director's version goes live: the manifest's fields, and texts with exactly the
keys and shapes of the shipped pack (a missing line would leave the panel blank mid-call).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import ui

SHIPPED: Final = Path(ui.__file__).parent / "prompts"
ID: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
VERSION: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
LANGUAGE: Final = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, as the panel uses it
AGENCY: Final = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
MANIFEST_FIELDS: Final = (
    "id",
    "version",
    "language",
    "signed_by",
    "signed_at",
    "effective_from",
)
# What a director decides, and the shipped sample's choice (see the shipped manifests).
DECISIONS: Final = {
    "adult_compression_only": True,
    "rescue_breaths_infant": False,
    "rescue_breaths_child": False,
    "rescue_breaths_asphyxial": False,
}


class PackError(ValueError):
    """A pack that cannot be used; the message names the file and field."""


@dataclass(frozen=True, slots=True)
class Pack:
    id: str
    version: str
    language: str
    signed_by: str
    signed_at: datetime
    effective_from: datetime
    decisions: Mapping[str, bool]
    sample: bool  # the project's sample, signed by no medical director
    texts: Mapping[str, Any]
    path: Path

    @property
    def protocol(self) -> str:
        """How `tcpr.started` names it: `id@version`."""
        return f"{self.id}@{self.version}"

    def manifest(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "protocol": self.protocol,
            "language": self.language,
            "signed_by": self.signed_by,
            "signed_at": self.signed_at.isoformat(),
            "effective_from": self.effective_from.isoformat(),
            "decisions": dict(self.decisions),
            "sample": self.sample,
        }


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise PackError(f"{where}: an RFC 3339 date and time with offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PackError(f"{where}: {value!r} is not an RFC 3339 date and time") from None
    if parsed.utcoffset() is None:
        raise PackError(f"{where}: {value!r} has no UTC offset")
    return parsed


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{path.name}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"{path.name}: not readable JSON: {exc}") from None


def _shape(value: Any, reference: Any, where: str) -> list[str]:
    """Where `value` does not have the keys and kinds of `reference` (the shipped texts)."""
    if isinstance(reference, dict):
        if not isinstance(value, dict):
            return [f"{where}: an object"]
        problems = [f"{where}.{k}: missing" for k in reference if k not in value]
        problems += [
            f"{where}.{k}: not a key of the shipped texts" for k in value if k not in reference
        ]
        for key in reference:
            if key in value:
                problems += _shape(value[key], reference[key], f"{where}.{key}")
        return problems
    if isinstance(reference, list):
        if not isinstance(value, list) or not value:
            return [f"{where}: a non-empty list of lines"]
        return [
            f"{where}[{i}]: a non-blank line"
            for i, line in enumerate(value)
            if not isinstance(line, str) or not line.strip()
        ]
    if not isinstance(value, str) or not value.strip():
        return [f"{where}: a non-blank line"]
    return []


def load(folder: Path, reference: Mapping[str, Any] | None = None) -> Pack:
    """One pack, checked; PackError names the first problem (`check` lists them all)."""
    problems = check(folder, reference)
    if problems:
        raise PackError(f"{folder}: {problems[0]}")
    return _pack(folder)


def _pack(folder: Path) -> Pack:
    m = _read(folder / "manifest.json")
    return Pack(
        id=m["id"],
        version=m["version"],
        language=m["language"],
        signed_by=m["signed_by"],
        signed_at=_time(m["signed_at"], "signed_at"),
        effective_from=_time(m["effective_from"], "effective_from"),
        decisions={**DECISIONS, **m.get("decisions", {})},
        sample=m.get("sample") is True,
        texts=_read(folder / "texts.json"),
        path=folder,
    )


def check(folder: Path, reference: Mapping[str, Any] | None = None) -> list[str]:
    """Every problem of a pack folder, each naming its file and field; [] when it may be used."""
    try:
        manifest = _read(folder / "manifest.json")
        texts = _read(folder / "texts.json")
    except PackError as exc:
        return [str(exc)]
    problems: list[str] = []
    if not isinstance(manifest, dict):
        return ["manifest.json: an object"]
    for name in MANIFEST_FIELDS:
        if not isinstance(manifest.get(name), str) or not manifest[name].strip():
            problems.append(f"manifest.json: {name}: required, a non-blank string")
    patterns = {"id": ID, "version": VERSION, "language": LANGUAGE}
    for name, pattern in patterns.items():
        value = manifest.get(name)
        if isinstance(value, str) and value and not pattern.match(value):
            problems.append(f"manifest.json: {name}: {value!r} is not allowed ({pattern.pattern})")
    for name in ("signed_at", "effective_from"):
        if isinstance(manifest.get(name), str) and manifest[name]:
            try:
                _time(manifest[name], name)
            except PackError as exc:
                problems.append(f"manifest.json: {exc}")
    decisions = manifest.get("decisions", {})
    if not isinstance(decisions, dict):
        problems.append("manifest.json: decisions: an object of true / false")
    else:
        for key, value in decisions.items():
            if key not in DECISIONS:
                problems.append(
                    f"manifest.json: decisions.{key}: not one of {', '.join(DECISIONS)}"
                )
            elif not isinstance(value, bool):
                problems.append(f"manifest.json: decisions.{key}: true or false")
    known = {*MANIFEST_FIELDS, "decisions", "sample", "notes", "director_must_decide"}
    problems += [f"manifest.json: {k}: not a manifest field" for k in manifest if k not in known]
    if reference is None:
        reference = shipped_reference()
    problems += [f"texts.json: {p.removeprefix('.')}" for p in _shape(texts, reference, "")]
    return problems


def shipped_reference() -> Mapping[str, Any]:
    """The texts every pack must match in shape: the shipped English pack's."""
    return _read(SHIPPED / "tcpr-sample-en" / "texts.json")  # type: ignore[no-any-return]


def _packs(root: Path, reference: Mapping[str, Any]) -> list[Pack]:
    if not root.is_dir():
        return []
    return [load(folder, reference) for folder in sorted(root.iterdir()) if folder.is_dir()]


class Library:
    """The shipped packs and each agency's, read once at start (a new version needs a restart
    or `reload`, the way a director's sign-off is put into service on purpose)."""

    def __init__(self, agencies_root: Path | None) -> None:
        self._root = agencies_root
        self.reload()

    def reload(self) -> None:
        reference = shipped_reference()
        self.shipped = _packs(SHIPPED, reference)
        self.by_agency: dict[str, list[Pack]] = {}
        if self._root is not None and self._root.is_dir():
            for folder in sorted(self._root.iterdir()):
                if folder.is_dir() and AGENCY.match(folder.name):
                    self.by_agency[folder.name] = _packs(folder, reference)

    def languages(self, agency: str) -> list[str]:
        return sorted({p.language for p in (*self.shipped, *self.by_agency.get(agency, []))})

    def in_force(self, agency: str, language: str, now: datetime | None = None) -> Pack | None:
        """The agency's own latest pack of the language in force at `now`, else the shipped."""
        now = now or datetime.now(UTC)
        for packs in (self.by_agency.get(agency, []), self.shipped):
            current = [p for p in packs if p.language == language and p.effective_from <= now]
            if current:
                return max(current, key=lambda p: p.effective_from)
        return None

    def history(self, agencies: Iterable[str]) -> list[dict[str, Any]]:
        """Every version of the agencies' own packs, by when it took effect (for the trend
        charts' marks: did a new version shorten the interval to first compression?)."""
        out = [
            {"agency": agency, **p.manifest()}
            for agency in sorted(set(agencies))
            for p in self.by_agency.get(agency, [])
        ]
        return sorted(out, key=lambda m: (m["effective_from"], m["agency"], m["language"]))
