"""Fixtures for the pure-core tests: golden timeline builders (see support/timeline.py), loaded
for every test folder by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from support.timeline import REF, Timeline, population_call


@pytest.fixture
def timeline() -> Callable[..., Timeline]:
    """Factory: `timeline(ref=..., call_id=...)` gives an empty Timeline anchored at `ref`."""

    def make(ref: datetime = REF, call_id: str = "C1", agency: str = "PSAP1") -> Timeline:
        return Timeline(ref=ref, call_id=call_id, agency=agency)

    return make


@pytest.fixture
def tl(timeline: Callable[..., Timeline]) -> Timeline:
    """One empty call anchored at REF (2024-03-01T10:00:00-05:00)."""
    return timeline()


@pytest.fixture
def pop_call() -> Callable[..., Timeline]:
    """Factory for population calls (EMS-confirmed, resuscitation attempted, not EMS-witnessed)."""
    return population_call
