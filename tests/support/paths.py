"""Where the tests find the checkout and the shared standards and samples beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# ../shared beside the checkout (CI has it); tests that read it skip with the reason elsewhere.
SHARED = REPO.parent / "shared"
