"""Pydantic models at the edge: the canonical event of DESIGN.md §2 as it arrives on the wire.

Validation here is the contract's: RFC 3339 times with an offset (no naive times, no numbers),
known kinds only, and the kind-specific `data` fields checked where the contract names values.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.qi.review import reason_problem
from service.triage import events as k
from service.triage.events import Event

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?$"
)


def _no_nul(value: str) -> str:
    """PostgreSQL text holds no NUL character: refused here rather than failing the insert."""
    if "\x00" in value:
        raise ValueError("contains U+0000 (NUL), which cannot be stored")
    return value


# After the length: pydantic checks a constrained str's text (a lone surrogate) itself.
NoNul = AfterValidator(_no_nul)
Id = Annotated[StrictStr, Field(min_length=1, max_length=128), NoNul]


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


def _one_of(allowed: tuple[str, ...], what: str) -> AfterValidator:
    """Accept a string from one of the core's own lists; refuse anything else by name."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def _enum(allowed: tuple[str, ...]) -> Any:
    return Field(json_schema_extra={"enum": list(allowed)})


# The core's constants are the single list of each; the wire checks against them.
Kind = Annotated[StrictStr, _one_of(k.KINDS, "kind"), _enum(k.KINDS)]
Source = Annotated[StrictStr, _one_of(k.SOURCES, "source"), _enum(k.SOURCES)]
Answer = Annotated[StrictStr, _one_of(k.ANSWERS, "answer"), _enum(k.ANSWERS)]
NotGivenReason = Annotated[
    StrictStr, _one_of(k.NOT_GIVEN_REASONS, "reason"), _enum(k.NOT_GIVEN_REASONS)
]
AlertName = Annotated[StrictStr, _one_of(k.ALERTS, "alert"), _enum(k.ALERTS)]


# A code or word the measures group by (and the projection stores in a 64-character column).
Short = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class TriageData(BaseModel):
    model_config = ConfigDict(extra="allow")
    answer: Answer


class NotGivenData(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: NotGivenReason
    note: StrictStr | None = None


class NatureData(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    text: StrictStr | None = None


class UnitData(BaseModel):
    model_config = ConfigDict(extra="allow")
    unit: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


def _timestamp(value: str) -> str:
    parse_rfc3339(value)
    return value


class EmsOutcomeData(BaseModel):
    model_config = ConfigDict(extra="allow")
    ohca: StrictBool
    resuscitation_attempted: StrictBool
    ems_witnessed: StrictBool
    etiology: Short | None = None
    rosc: StrictBool | None = None
    survived: StrictBool | None = None
    # For the equity breakdowns (DESIGN.md §5), as the source codes them.
    age_years: Annotated[float, Field(ge=0, le=150, strict=True)] | None = None
    sex: Short | None = None
    race: Short | None = None
    # Optional extras of a NEMSIS import (service/qi/nemsis.py says where each comes from).
    cardiac_arrest: StrictStr | None = None
    resuscitation: list[StrictStr] | None = None
    arrest_witnessed_by: list[StrictStr] | None = None
    arrest_at: Annotated[StrictStr, AfterValidator(_timestamp)] | None = None
    first_rhythm: StrictStr | None = None
    arrest_end: StrictStr | None = None
    cpr_started_at: Annotated[StrictStr, AfterValidator(_timestamp)] | None = None
    cpr_initiated_by: StrictStr | None = None
    cpr_before_call: StrictBool | None = None
    seconds_call_to_cpr: float | None = None
    emd_performed: StrictStr | None = None
    pre_arrival_instructions: StrictBool | None = None
    pcr_key: StrictStr | None = None


class QiReviewData(BaseModel):
    model_config = ConfigDict(extra="allow")
    recognizable: StrictBool | None = None
    nonrecognition_reasons: list[StrictStr] = Field(default_factory=list)
    delay_reasons: list[StrictStr] = Field(default_factory=list)
    corrections: dict[str, Any] = Field(default_factory=dict)
    notes: StrictStr | None = None
    feedback: StrictStr | None = None  # for the telecommunicator
    signed_off: StrictBool | None = None
    # The reviewer's judgement of the call's `tcpr.not_given` (DESIGN.md §5).
    exclusion_valid: StrictBool | None = None

    @field_validator("nonrecognition_reasons", "delay_reasons")
    @classmethod
    def _reasons(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, reason in enumerate(value):
            problem = reason_problem(reason)
            if problem is not None:
                raise ValueError(f"{info.field_name}.{i}: {problem}")
        return value

    @field_validator("corrections")
    @classmethod
    def _corrections(cls, value: dict[str, Any]) -> dict[str, Any]:
        for kind, when in value.items():
            if kind not in k.KINDS:
                raise ValueError(f"corrections.{kind}: not an event kind")
            try:
                parse_rfc3339(when)
            except ValueError as exc:
                raise ValueError(f"corrections.{kind}: {exc}") from None
        return value


class ReceivedData(BaseModel):
    model_config = ConfigDict(extra="allow")
    psap: StrictStr | None = None
    area: Short | None = None  # the agency's own area code: census tract, zip or district


class TcprStartedData(BaseModel):
    model_config = ConfigDict(extra="allow")
    variant: (
        Annotated[StrictStr, _one_of(k.TCPR_VARIANTS, "variant"), _enum(k.TCPR_VARIANTS)] | None
    ) = None
    language: Annotated[StrictStr, Field(min_length=1, max_length=35)] | None = None  # BCP 47
    protocol: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


class AlertData(BaseModel):
    model_config = ConfigDict(extra="allow")
    alert: AlertName


DATA_MODELS: dict[str, type[BaseModel]] = {
    k.CALL_RECEIVED: ReceivedData,
    k.TCPR_STARTED: TcprStartedData,
    k.TRIAGE_CONSCIOUS: TriageData,
    k.TRIAGE_BREATHING: TriageData,
    k.TCPR_NOT_GIVEN: NotGivenData,
    k.CALL_NATURE: NatureData,
    k.UNIT_DISPATCHED: UnitData,
    k.UNIT_ON_SCENE: UnitData,
    k.EMS_OUTCOME: EmsOutcomeData,
    k.QI_REVIEW: QiReviewData,
    k.ALERT_RAISED: AlertData,
}


class CanonicalEvent(BaseModel):
    """One event as posted. Unknown top-level fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    event_id: Id
    call_id: Id
    agency: Annotated[StrictStr, Field(min_length=1, max_length=32), NoNul]
    kind: Kind
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
        if self.kind == k.QI_REVIEW and self.data.get("signed_off") is True and not self.actor:
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


MAX_DEPTH = 32


def unstorable(value: object, max_depth: int | None = MAX_DEPTH) -> tuple[str, str] | None:
    """The first place (as `.key[0]...`, in document order) holding what JSON text cannot carry
    or the stores cannot keep, and why: NaN or an infinity, a lone surrogate (a JSON escape
    gives one), a non-string key, nesting deeper than MAX_DEPTH. None when all is well."""
    stack: list[tuple[str, object, int]] = [("", value, 0)]
    while stack:  # not recursive: a value may be nested as deep as json.loads allows
        path, item, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            return path, f"nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            inner = []
            for key, child in item.items():
                name = f"{path}.{_printable(key)}"
                if not isinstance(key, str):
                    return name, f"a key must be a string, not {json_type(key)}"
                problem = lone_surrogate(key)
                if problem is not None:
                    return name, problem
                inner.append((name, child, depth + 1))
            stack.extend(reversed(inner))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{path}[{i}]", c, depth + 1) for i, c in enumerate(item)]))
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, f"{item} is not a number in JSON (RFC 8259)"
        elif isinstance(item, str):
            problem = lone_surrogate(item)
            if problem is not None:
                return path, problem
        elif item is not None and not isinstance(item, int):  # bool is an int
            return path, f"not a JSON value: {type(item).__name__}"
    return None


def lone_surrogate(value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"U+{ord(value[exc.start]):04X} at character {exc.start} is a lone surrogate, "
            "not text that can be stored"
        )
    return None


def _printable(key: object) -> str:
    """A key as it can appear in a field name (a lone surrogate as its escape)."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def json_type(value: object) -> str:
    """How to name a JSON value's type in a refusal."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__


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
