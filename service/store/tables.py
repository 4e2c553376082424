"""SQLAlchemy tables. The events table is append-only: corrections are new events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SequenceKey = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; on SQLite an ISO string, always read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CodeList(TypeDecorator[tuple[str, ...]]):
    """A short sorted list of codes (a call's review reasons) as JSON text, NULL when empty, so
    calls with the same codes group together in SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return json.dumps(list(value), separators=(",", ":")) if value else None

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UTCDateTime}


class EventRow(Base):
    """One canonical event. `seq` is the global sequence, allocated in commit order."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("agency", "event_id", name="uq_events_agency_event_id"),
        Index("ix_events_agency_call", "agency", "call_id", "seq"),
        # A telecommunicator's own calls (`GET /api/v1/feedback`).
        Index("ix_events_agency_actor", "agency", "actor"),
    )

    seq: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(128))
    call_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    # The instant, and the source's own UTC offset so the original wall time can be shown.
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    at_offset_s: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # This event's link in its agency's hash chain (tamper evidence; `tcpr verify-audit`).
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    # The seq of the event this one follows in its agency's chain (0 for the first), so a
    # removed or reordered event is told from an altered one.
    chain_prev_seq: Mapped[int | None] = mapped_column(BigInteger)


class ChainHeadRow(Base):
    """The last link of each agency's event hash chain, and how many events it holds, so a
    removed tail is caught as surely as an altered or removed event in the middle."""

    __tablename__ = "chain_heads"

    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)


class CallRow(Base):
    """Projection: each call's T0 and its measure summary (`CallSummary`, one column per field,
    so measures and audit lists aggregate and filter in SQL), rewritten in the event's
    transaction."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_agency_t0", "agency", "t0"),
        Index("ix_calls_agency_telecommunicator_t0", "agency", "telecommunicator", "t0"),
    )

    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    t0: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    in_population: Mapped[bool] = mapped_column(Boolean, default=False)
    has_ems_outcome: Mapped[bool] = mapped_column(Boolean, default=False)
    ems_says_not_arrest: Mapped[bool] = mapped_column(Boolean, default=False)
    ems_witnessed: Mapped[bool] = mapped_column(Boolean, default=False)
    resuscitation_attempted: Mapped[bool | None] = mapped_column(Boolean)
    recognized: Mapped[bool] = mapped_column(Boolean, default=False)
    to_recognition: Mapped[float | None] = mapped_column(Float)
    to_first_compression: Mapped[float | None] = mapped_column(Float)
    not_given_reason: Mapped[str | None] = mapped_column(String(32))
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    recognizable: Mapped[bool | None] = mapped_column(Boolean)
    signed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    telecommunicator: Mapped[str | None] = mapped_column(String(128))
    # The judgements of DESIGN.md §5 (service.qi.summary), and the breakdown dimensions.
    t0_source: Mapped[str | None] = mapped_column(String(16))
    recognition_after_arrival: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_valid: Mapped[bool | None] = mapped_column(Boolean)
    nonrecognition_reasons: Mapped[tuple[str, ...]] = mapped_column(CodeList, nullable=True)
    delay_reasons: Mapped[tuple[str, ...]] = mapped_column(CodeList, nullable=True)
    language: Mapped[str | None] = mapped_column(String(64))
    protocol: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64))
    age_group: Mapped[str | None] = mapped_column(String(8))
    sex: Mapped[str | None] = mapped_column(String(64))
    race: Mapped[str | None] = mapped_column(String(64))


# The CallRow columns that hold a CallSummary's fields (all but the key and bookkeeping).
SUMMARY_COLUMNS = (
    "t0",
    "in_population",
    "has_ems_outcome",
    "ems_says_not_arrest",
    "ems_witnessed",
    "resuscitation_attempted",
    "recognized",
    "to_recognition",
    "to_first_compression",
    "not_given_reason",
    "reviewed",
    "recognizable",
    "signed_off",
    "telecommunicator",
    "t0_source",
    "recognition_after_arrival",
    "excluded",
    "excluded_reviewed",
    "exclusion_valid",
    "nonrecognition_reasons",
    "delay_reasons",
    "language",
    "protocol",
    "area",
    "age_group",
    "sex",
    "race",
)


class EmsReportRow(Base):
    """One imported EMS patient care report (NEMSIS `PatientCareReport`) and its match.

    `call_id` is null while the report is unmatched: such reports wait here for a person to link
    them (`linked_by`), and are never dropped. Re-importing the same report (same `pcr_key`, the
    NEMSIS `eRecord.01` or the report's UUID) updates its row instead of adding another."""

    __tablename__ = "ems_reports"
    __table_args__ = (
        UniqueConstraint("agency", "pcr_key", name="uq_ems_reports_agency_pcr_key"),
        Index("ix_ems_reports_agency_call", "agency", "call_id"),
    )

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    pcr_key: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cad_record_id: Mapped[str | None] = mapped_column(String(128))  # eDispatch.06
    incident_number: Mapped[str | None] = mapped_column(String(128))  # eResponse.03
    psap_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # eTimes.01
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)  # the ems.outcome data it implies
    call_id: Mapped[str | None] = mapped_column(String(128))
    match: Mapped[str] = mapped_column(String(32))  # how: eDispatch.06 | eResponse.03 | ...
    linked_by: Mapped[str | None] = mapped_column(String(128))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    document: Mapped[str] = mapped_column(Text)  # the report's XML as received


class RejectRow(Base):
    """A refused input, kept as received for later inspection."""

    __tablename__ = "rejects"
    __table_args__ = (Index("ix_rejects_agency_id", "agency", "id"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(256))
    endpoint: Mapped[str] = mapped_column(String(128))
    principal: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)


class TokenRow(Base):
    """A bearer token, stored only as its SHA-256 (tokens are 256-bit random, not passwords)."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    agencies: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(128))


class SessionRow(Base):
    """A browser session: the HttpOnly cookie holds a random secret, stored here only as its
    SHA-256. Opened from a bearer token (`token_id`, so revoking the token ends its sessions)
    or from an OpenID Connect token (`subject`)."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_token_id", "token_id"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int | None] = mapped_column(BigInteger)
    subject: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    agencies: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccessRow(Base):
    """Who read what: every read of an audit, an audit list or export, measures or EMS
    reports, with the principal, the agency and the target (a call id or the query)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_agency_id", "agency", "id"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    agency: Mapped[str] = mapped_column(String(32))
    principal: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(512))
    client: Mapped[str | None] = mapped_column(String(64))


class DebriefRow(Base):
    """A supervisor's debrief of a call that needed one (an EMS-confirmed arrest never
    recognised, or one that missed a benchmark): who held it and when. The calls that need one
    are found from the `calls` projection; only the debriefs held are stored."""

    __tablename__ = "debriefs"
    __table_args__ = (UniqueConstraint("agency", "call_id", name="uq_debriefs_agency_call_id"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str] = mapped_column(String(128))
    done_by: Mapped[str] = mapped_column(String(160))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class TrainingSessionRow(Base):
    """A trainer's session with one trainee: simulator scenarios played live as CAD events into
    a training agency (`agency`, `"training": true` in its settings). `home_agency` is the
    trainee's own agency, whose continuing-education records the session's time joins once it
    is completed. `scenarios` lists each scenario played: {scenario, call_id, started_at,
    ended_at}."""

    __tablename__ = "training_sessions"
    __table_args__ = (Index("ix_training_sessions_home_trainee", "home_agency", "trainee"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    home_agency: Mapped[str] = mapped_column(String(32))
    trainee: Mapped[str] = mapped_column(String(128))
    trainer: Mapped[str] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(String(16))  # initial | continuing
    status: Mapped[str] = mapped_column(String(16))  # running | completed | abandoned
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scenarios: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class TrainingRecordRow(Base):
    """Time a person spent in T-CPR training, for the AHA's initial (3-4 h) and continuing
    (2-3 h in each 12 months) education: a completed session (`session_id`) or other training
    a supervisor entered (classroom, online)."""

    __tablename__ = "training_records"
    __table_args__ = (Index("ix_training_records_agency_person", "agency", "person"),)

    id: Mapped[int] = mapped_column(SequenceKey, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    person: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(16))  # initial | continuing
    kind: Mapped[str] = mapped_column(String(16))  # session | classroom | online | other
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    session_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    entered_by: Mapped[str] = mapped_column(String(160))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
