"""QI audit review: the audit list, exports and printable pages (issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
