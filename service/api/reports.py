"""QI measures: agency sets, trends, per-telecommunicator, exports (issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
