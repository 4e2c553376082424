"""The kind-specific `data` of DESIGN.md §2 as the wire checks it: one pydantic model per kind
that names values (the others' data is any JSON object)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from contract.fields import AlertName, Answer, Id, NotGivenReason, enum_of, one_of
from contract.kinds import KINDS, TCPR_VARIANTS, Kind
from contract.reasons import reason_problem
from contract.times import parse_rfc3339

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
            if kind not in KINDS:
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
        Annotated[StrictStr, one_of(TCPR_VARIANTS, "variant"), enum_of(TCPR_VARIANTS)] | None
    ) = None
    language: Annotated[StrictStr, Field(min_length=1, max_length=35)] | None = None  # BCP 47
    protocol: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


class FeedbackAcknowledgedData(BaseModel):
    model_config = ConfigDict(extra="allow")
    review: Id  # the `qi.review` event id


class AlertData(BaseModel):
    model_config = ConfigDict(extra="allow")
    alert: AlertName


DATA_MODELS: dict[str, type[BaseModel]] = {
    Kind.CALL_RECEIVED: ReceivedData,
    Kind.TCPR_STARTED: TcprStartedData,
    Kind.TRIAGE_CONSCIOUS: TriageData,
    Kind.TRIAGE_BREATHING: TriageData,
    Kind.TCPR_NOT_GIVEN: NotGivenData,
    Kind.CALL_NATURE: NatureData,
    Kind.UNIT_DISPATCHED: UnitData,
    Kind.UNIT_ON_SCENE: UnitData,
    Kind.EMS_OUTCOME: EmsOutcomeData,
    Kind.QI_REVIEW: QiReviewData,
    Kind.FEEDBACK_ACKNOWLEDGED: FeedbackAcknowledgedData,
    Kind.ALERT_RAISED: AlertData,
}
