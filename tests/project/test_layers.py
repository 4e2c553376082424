"""The import rules that keep the core pure and the contract shared (STYLE.md "Shape of this
project"): read from the source with `ast`, so a rule broken anywhere fails here by name."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import REPO

ROOT = REPO
# No I/O shells below the HTTP layer: no routes, no store, no web or database client.
SHELLS = (
    "service.api",
    "service.store",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "httpx",
)
# What each package may not import (a name and everything under it).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # The pure core: standard library and the contract's plain types, time passed in.
    "service/triage": (*SHELLS, "pydantic", "asyncio"),
    "service/qi": (*SHELLS, "pydantic", "asyncio"),
    # Training's pure part: the scenarios, their scoring from the audit, the AHA's hours rule,
    # training needs and how hours read (the sessions' player and store are shells beside them).
    **{
        f"service/training/{name}.py": (*SHELLS, "pydantic", "asyncio")
        for name in ("scenarios", "scoring", "hours", "needs", "report")
    },
    # Shared by the service and the adapters, so it builds on neither.
    "contract": (*SHELLS, "service", "cad_adapters"),
    # The adapters run beside the CAD, apart from the service: they share only the contract.
    "cad_adapters": ("service",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `tree`, wherever it sits (a function's
    own import counts too). `from a import b` yields `a.b` as well as `a`, since `b` may be a
    module; a relative import is resolved against `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield node.lineno, source
            for alias in node.names:
                yield node.lineno, f"{source}.{alias.name}"


def violations(package_dir: str, forbidden: tuple[str, ...]) -> list[str]:
    """One line per forbidden import found in a package or one module: the module, its line,
    what it imports."""
    found: dict[tuple[str, int], str] = {}
    where = ROOT / package_dir
    for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported(tree, module, path.name == "__init__.py"):
            banned = next((b for b in forbidden if name == b or name.startswith(b + ".")), None)
            if banned is not None:
                found.setdefault((module, line), f"{module} (line {line}) imports {name}")
    return sorted(found.values())


@pytest.mark.parametrize("package_dir", sorted(FORBIDDEN))
def test_package_keeps_its_import_rules(package_dir: str) -> None:
    assert (ROOT / package_dir).exists(), package_dir
    assert violations(package_dir, FORBIDDEN[package_dir]) == []


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import sqlalchemy.orm\n", "sqlalchemy.orm"),
        ("from fastapi import APIRouter\n", "fastapi"),
        ("from service.api import wire\n", "service.api.wire"),
        ("from service import store\n", "service.store"),
        ("from ..store import events\n", "service.store"),
        ("from ..api.routes import router\n", "service.api.routes"),
        ("def later():\n    import httpx\n", "httpx"),
        ("import asyncio\n", "asyncio"),
        ("from pydantic import BaseModel\n", "pydantic"),
    ],
)
def test_rule_catches_a_forbidden_import(source: str, caught: str) -> None:
    """Each way of writing a forbidden import is seen, relative ones resolved."""
    names = [name for _, name in ast_imports(source, "service.triage.probe")]
    assert any(name == caught or name.startswith(caught + ".") for name in names), names
    forbidden = FORBIDDEN["service/triage"]
    assert any(n == b or n.startswith(b + ".") for n in names for b in forbidden)


def test_rule_allows_the_core_its_own_imports() -> None:
    source = (
        "from contract.event import Event\nfrom . import intervals\nfrom .state import fold\n"
        "import dataclasses\nfrom service.triage.profiles import AgencyConfig\n"
    )
    names = [name for _, name in ast_imports(source, "service.triage.probe")]
    forbidden = FORBIDDEN["service/triage"]
    assert not [n for n in names for b in forbidden if n == b or n.startswith(b + ".")], names


def ast_imports(source: str, module: str) -> list[tuple[int, str]]:
    return list(imported(ast.parse(source), module, is_package=False))
