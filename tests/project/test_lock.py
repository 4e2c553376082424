"""The lock is the install: uv.lock agrees with pyproject.toml, the environment running these tests
holds exactly the locked versions, uv itself is pinned by the lock, and every install step in the
Makefile and the Dockerfile goes through the lock (hashes checked, nothing re-resolved).

`make lock` / `make upgrade` are the only ways a version moves; a pyproject.toml edited without
them fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from support.paths import REPO

LOCK = REPO / "uv.lock"


def uv() -> str:
    """The uv that `make` bootstraps from requirements-uv.txt (else one on PATH)."""
    found = REPO / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        reason = "uv not found in .tools/ or on PATH: `make test` installs it from the lock"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must check the lock", pytrace=False)
        pytest.skip(reason)
    return on_path


def run_uv(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    return subprocess.run(
        [uv(), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def locked() -> dict[str, str]:
    """Package name -> version, as uv.lock pins them."""
    packages = tomllib.loads(LOCK.read_text())["package"]
    return {p["name"]: p["version"] for p in packages if "version" in p}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_agrees_with_pyproject() -> None:
    # --offline: the check reads pyproject.toml and uv.lock only, never an index.
    result = run_uv("lock", "--check", "--offline", "--python", sys.executable)
    assert result.returncode == 0, (
        "uv.lock does not match pyproject.toml: run `make lock` and commit both\n" + result.stderr
    )


def test_every_locked_package_has_hashes() -> None:
    for package in tomllib.loads(LOCK.read_text())["package"]:
        if package.get("source", {}).get("editable") or package.get("source", {}).get("virtual"):
            continue  # the project itself
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        assert files, f"{package['name']}: no files in the lock"
        for file in files:
            assert str(file.get("hash", "")).startswith("sha256:"), f"{package['name']}: {file}"


def test_the_running_environment_is_exactly_the_lock() -> None:
    pins = {canonical(name): version for name, version in locked().items()}
    project = canonical(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"])
    problems = []
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"])
        if name == project:
            continue
        if name not in pins:
            problems.append(f"{name}=={dist.version}: installed, not in uv.lock")
        elif dist.version != pins[name]:
            problems.append(f"{name}=={dist.version}: uv.lock pins {pins[name]}")
    assert not problems, "the environment is not the lock (run `make`):\n" + "\n".join(problems)


def test_uv_itself_is_pinned_by_the_lock() -> None:
    result = run_uv("export", "--frozen", "--only-group", "tools", "--no-emit-project")
    assert result.returncode == 0, result.stderr

    def requirements(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    shipped = (REPO / "requirements-uv.txt").read_text()
    assert requirements(shipped) == requirements(result.stdout), (
        "requirements-uv.txt is not the lock's uv: run `make lock`"
    )
    assert re.search(r"^uv==[\d.]+ \\$", shipped, re.MULTILINE)
    assert "--hash=sha256:" in shipped


def install_lines(path: Path) -> list[str]:
    """Each command of a Makefile or Dockerfile, continuation lines joined."""
    return [line for line in path.read_text().replace("\\\n", " ").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["Makefile", "Dockerfile"])
def test_every_install_goes_through_the_lock(name: str) -> None:
    lines = install_lines(REPO / name)
    pip = [line for line in lines if re.search(r"\bpip install\b", line)]
    syncs = [line for line in lines if re.search(r"\buv (sync|pip)\b", line)]
    assert pip or syncs, f"{name} installs nothing?"
    for line in pip:
        assert "--require-hashes" in line and "-r requirements-uv.txt" in line, line
    for line in syncs:
        assert re.search(r"\buv sync\b.*--frozen", line), f"{name}: not from the lock: {line}"
