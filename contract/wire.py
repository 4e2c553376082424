"""Pydantic models at the edge: the canonical event of DESIGN.md §2 as it arrives on the wire.

Validation here is the contract's: RFC 3339 times with an offset (no naive times, no numbers),
known kinds only, and the kind-specific `data` fields checked where the contract names values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from contract.data_models import DATA_MODELS
from contract.event import Event
from contract.fields import Id, KindName, NoNul, Source
from contract.kinds import Kind
from contract.storable import unstorable
from contract.times import parse_rfc3339


class CanonicalEvent(BaseModel):
    """One event as posted. Unknown top-level fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    event_id: Id
    call_id: Id
    agency: Annotated[StrictStr, Field(min_length=1, max_length=32), NoNul]
    kind: KindName
    at: datetime
    source: Source = "cad"
    actor: Annotated[StrictStr, Field(max_length=128), NoNul] | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: object) -> datetime:
        return parse_rfc3339(value)

    @model_validator(mode="after")
    def _data(self) -> CanonicalEvent:
        problem = unstorable(self.data)
        if problem is not None:
            where, reason = problem
            raise ValueError(f"data{where}: {reason}")
        model = DATA_MODELS.get(self.kind)
        if model is not None:
            try:
                model.model_validate(self.data)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise ValueError(f"data.{where}: {err['msg']}") from None
        if self.kind == Kind.QI_REVIEW and self.data.get("signed_off") is True and not self.actor:
            # A signed-off audit is a legal record: it must say who signed it.
            raise ValueError("actor: a signed-off review must name its reviewer as actor")
        return self

    def to_event(self) -> Event:
        return Event(
            event_id=self.event_id,
            call_id=self.call_id,
            agency=self.agency,
            kind=self.kind,
            at=self.at,
            source=self.source,
            actor=self.actor,
            data=self.data,
        )


def first_error(exc: ValidationError, index: int | None) -> tuple[str, str]:
    """(field, message) naming the offending field, e.g. ('at', "event 2: field 'at': ...")."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    msg = str(err["msg"]).removeprefix("Value error, ")
    # The event-wide rules (`_data`) name their field first: "data.answer: ...", "actor: ...".
    named, sep, rest = msg.partition(": ")
    if sep and (named.startswith("data.") or named in CanonicalEvent.model_fields):
        field, msg = named, rest
    elif loc:
        field = ".".join(loc)
    else:
        field = "body"
    if err["type"] == "missing":
        msg = "field required"
    prefix = f"event {index}: " if index is not None else ""
    return field, f"{prefix}field '{field}': {msg}"
