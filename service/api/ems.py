"""EMS linkage: NEMSIS import, unmatched reports, linkage extract (issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
