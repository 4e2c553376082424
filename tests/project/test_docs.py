"""The README stays short and the reference in docs/ stays true: every link resolves, every
setting and every route the service serves is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support.paths import REPO

from service.app import create_app

try:  # FastAPI >= 0.12x keeps included routers lazy; their routes come out of route contexts.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI lists every route flat

    def iter_route_contexts(routes: Any) -> Any:  # type: ignore[misc]
        return iter(routes)


from service.settings import Settings

README = REPO / "README.md"
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#+ (.+)$", page.read_text("utf-8"), re.M)}


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_is_short() -> None:
    lines = README.read_text("utf-8").count("\n")
    assert lines <= 260, f"README.md has {lines} lines: move reference to docs/"


def test_every_link_in_the_readme_and_docs_resolves() -> None:
    problems = []
    for page in pages():
        for target in LINK.findall(page.read_text("utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                problems.append(f"{page.relative_to(REPO)}: {target}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{page.relative_to(REPO)}: {target}: no such heading")
    assert not problems, "\n".join(problems)


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text("utf-8")
    missing = [
        f"TCPR_{name.upper()}"
        for name in Settings.model_fields
        if f"TCPR_{name.upper()}" not in text
    ]
    assert not missing, f"docs/configuration.md does not mention {missing}"


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_route_is_in_the_interfaces_reference(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}"))
    text = shape((DOCS / "interfaces.md").read_text("utf-8"))
    served = {
        shape(route.path)
        for route in iter_route_contexts(app.routes)
        if getattr(route, "path", "").startswith(("/api/", "/ws", "/healthz", "/metrics"))
    }
    missing = sorted(path for path in served if path not in text)
    assert not missing, f"docs/interfaces.md does not mention {missing}"
