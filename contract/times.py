"""RFC 3339 times as the contract takes them: with an offset, never naive, never a number."""

from __future__ import annotations

import re
from datetime import UTC, datetime

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?$"
)


def parse_rfc3339(value: object) -> datetime:
    """An RFC 3339 timestamp with its offset; anything else is refused with the reason."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string, e.g. 2026-01-15T14:00:00-05:00")
    match = RFC3339.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp")
    if match.group("offset") is None:
        raise ValueError(f"{value!r} has no UTC offset; add Z or an offset such as -05:00")
    text = value.strip()
    if match.group(1) and len(match.group(1)) > 7:  # Python keeps microseconds only
        text = text.replace(match.group(1), match.group(1)[:7])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date and time: {exc}") from None
    try:
        parsed.astimezone(UTC)  # every instant is stored and compared in UTC
    except OverflowError:
        raise ValueError(f"{value!r} falls outside the years 1 to 9999 in UTC") from None
    return parsed
