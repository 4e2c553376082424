"""The reviewer's reasons (DESIGN.md §5 `qi.review`): which entries a list of reasons may hold.

Reasons are coded so they can be counted across calls (the barrier studies' categories), and free
text stays beside them in the same list (DESIGN.md §5: "free text allowed beside them"; the
contract types both lists as strings). The review form writes free text as `other: <text>`; any
other string that is not a code is kept too, as free text, because an agency's own codes and an
API client's wording must not be refused. Only blank or over-long entries are refused.
"""

from __future__ import annotations

from typing import Final

FREE_TEXT_PREFIX: Final = "other:"
FREE_TEXT_MAX: Final = 500


def reason_problem(reason: str) -> str | None:
    """Why `reason` cannot stand in a list of reasons, or None when it can."""
    text = reason.removeprefix(FREE_TEXT_PREFIX).strip()
    if not text:
        return f"{reason!r}: a reason must not be blank"
    if len(text) > FREE_TEXT_MAX:
        return f"free text is over {FREE_TEXT_MAX} characters"
    return None
