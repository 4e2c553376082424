"""The period a read covers, from its `from` and `to` query parameters (from <= T0 < to)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi import HTTPException

from service.api.wire import parse_rfc3339


def period_bound(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 datetime with offset, or a date meaning midnight UTC."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        return parse_rfc3339(value)
    except ValueError as exc:
        raise HTTPException(422, {"field": name, "detail": f"{name}: {exc}"}) from None
