"""The constrained field types the wire models are built from (pydantic, at the edge)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictStr

from contract.kinds import ALERTS, ANSWERS, KINDS, NOT_GIVEN_REASONS, SOURCES


def _no_nul(value: str) -> str:
    """PostgreSQL text holds no NUL character: refused here rather than failing the insert."""
    if "\x00" in value:
        raise ValueError("contains U+0000 (NUL), which cannot be stored")
    return value


# After the length: pydantic checks a constrained str's text (a lone surrogate) itself.
NoNul = AfterValidator(_no_nul)
Id = Annotated[StrictStr, Field(min_length=1, max_length=128), NoNul]


def one_of(allowed: tuple[str, ...], what: str) -> AfterValidator:
    """Accept a string from one of the core's own lists; refuse anything else by name."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def enum_of(allowed: tuple[str, ...]) -> Any:
    return Field(json_schema_extra={"enum": list(allowed)})


# The contract's lists are the single list of each; the wire checks against them.
KindName = Annotated[StrictStr, one_of(KINDS, "kind"), enum_of(KINDS)]
Source = Annotated[StrictStr, one_of(SOURCES, "source"), enum_of(SOURCES)]
Answer = Annotated[StrictStr, one_of(ANSWERS, "answer"), enum_of(ANSWERS)]
NotGivenReason = Annotated[
    StrictStr, one_of(NOT_GIVEN_REASONS, "reason"), enum_of(NOT_GIVEN_REASONS)
]
AlertName = Annotated[StrictStr, one_of(ALERTS, "alert"), enum_of(ALERTS)]
