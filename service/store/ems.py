"""EMS patient care reports beside the event log: imported, matched to calls, or waiting.

A matched report records its `ems.outcome` through the event store like any other input: source
`ems`, an event id derived from the report and its content (`ems_match.outcome_event_id`), and
`at` the report's latest eTimes date/time. So re-importing the same report is a duplicate that
changes nothing, a corrected report adds a new outcome, and the newer one is in force (the same
`at` is ordered by arrival; a correction that moves the times later is later anyway).

Unmatched reports stay in `ems_reports` until a person links them or a re-match finds their
call (a call that reached the service after the report); they are never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.event import Event
from contract.kinds import Kind
from service.qi import ems_match
from service.qi.ems_match import Match
from service.qi.nemsis import CareReport, parse
from service.refused import Conflicting, Invalid, NotFound
from service.store.event_reads import events_of_calls
from service.store.events import EventStore
from service.store.tables import CallRow, EmsReportRow, EventRow

UNMATCHED: Final = "unmatched"
# How many waiting reports one re-match pass looks at (newest first).
REMATCH_BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class Recorded:
    """What became of one report: its row, its call (or none) and its outcome event's fate."""

    id: int
    pcr_key: str
    call_id: str | None
    matched_by: str | None
    status: str  # "accepted" | "duplicate" | "unmatched"
    event_id: str | None
    outcome: dict[str, Any]
    candidates: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        row_id: int,
        pcr_key: str,
        found: Match,
        status: str,
        event_id: str | None,
        outcome: dict[str, Any],
    ) -> Recorded:
        return cls(
            row_id,
            pcr_key,
            found.call_id,
            found.matched_by,
            status,
            event_id,
            outcome,
            found.candidates,
        )


class EmsReportStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventStore) -> None:
        self._sessions = sessions
        self._events = events

    # -- import -------------------------------------------------------------------------------
    async def record(self, agency: str, report: CareReport) -> Recorded:
        """Store one imported report (upsert by agency and pcr_key) and, when it matches a
        call, its outcome. A hand link made earlier outranks the automatic rules."""
        async with self._sessions() as session:
            row = await self._row_by_key(session, agency, report.pcr_key)
            found = await self._match(
                session, agency, report.cad_record_id, report.incident_number, report.psap_call_at
            )
        if row is not None and row.linked_by is not None and row.call_id is not None:
            found = Match(row.call_id, ems_match.BY_HAND)
        elif found.call_id is None and row is not None and row.call_id is not None:
            found = Match(row.call_id, row.match, found.candidates)
        event_id, status = None, UNMATCHED
        if found.call_id is not None:
            event_id, status = await self._record_outcome(agency, found.call_id, report)
        row_id = await self._upsert(agency, report, found)
        return Recorded.of(row_id, report.pcr_key, found, status, event_id, report.outcome)

    async def _upsert(self, agency: str, report: CareReport, found: Match) -> int:
        for attempt in (1, 2):
            try:
                async with self._sessions() as session, session.begin():
                    row = await self._row_by_key(session, agency, report.pcr_key)
                    if row is None:
                        row = EmsReportRow(agency=agency, pcr_key=report.pcr_key)
                        session.add(row)
                    row.received_at = datetime.now(UTC)
                    row.cad_record_id = _bounded(report.cad_record_id)
                    row.incident_number = _bounded(report.incident_number)
                    row.psap_call_at = report.psap_call_at
                    row.outcome = report.outcome
                    row.document = report.document
                    row.call_id = found.call_id
                    row.match = found.matched_by or UNMATCHED
                    await session.flush()
                    return row.id
            except IntegrityError:
                if attempt == 2:  # two imports of a new report at once: the second updates
                    raise
        raise AssertionError("unreachable")

    async def _record_outcome(
        self, agency: str, call_id: str, report: CareReport
    ) -> tuple[str, str]:
        event_id = ems_match.outcome_event_id(report.pcr_key, call_id, report.outcome)
        at = report.outcome_at or report.psap_call_at or await self._t0(agency, call_id)
        appended = await self._events.append(
            [
                Event(
                    event_id=event_id,
                    call_id=call_id,
                    agency=agency,
                    kind=Kind.EMS_OUTCOME,
                    at=at,
                    source="ems",
                    data=report.outcome,
                )
            ]
        )
        return event_id, appended.outcomes[0].status

    # -- matching ------------------------------------------------------------------------------
    async def _match(
        self,
        session: AsyncSession,
        agency: str,
        cad_record_id: str | None,
        incident_number: str | None,
        psap_call_at: datetime | None,
    ) -> Match:
        ids = [i for i in (cad_record_id, incident_number) if i is not None and len(i) <= 128]
        known: set[str] = set()
        if ids:
            known = set(
                await session.scalars(
                    select(CallRow.call_id).where(
                        CallRow.agency == agency, CallRow.call_id.in_(ids)
                    )
                )
            )
        near: list[tuple[str, datetime]] = []
        if psap_call_at is not None:
            window = ems_match.TIME_TOLERANCE
            rows = await session.execute(
                select(CallRow.call_id, CallRow.t0).where(
                    CallRow.agency == agency,
                    CallRow.t0 >= psap_call_at - window,
                    CallRow.t0 <= psap_call_at + window,
                )
            )
            near = [(call_id, t0) for call_id, t0 in rows if t0 is not None]
        return ems_match.match(cad_record_id, incident_number, psap_call_at, known, near)

    async def rematch(self, agency: str) -> list[Recorded]:
        """Try the waiting reports of the agency again: a call may have arrived since. Returns
        every waiting report, matched now or still waiting (with its candidate calls)."""
        async with self._sessions() as session:
            waiting = list(
                await session.scalars(
                    select(EmsReportRow)
                    .where(EmsReportRow.agency == agency, EmsReportRow.call_id.is_(None))
                    .order_by(EmsReportRow.id.desc())
                    .limit(REMATCH_BATCH)
                )
            )
            matches = [
                await self._match(
                    session, agency, r.cad_record_id, r.incident_number, r.psap_call_at
                )
                for r in waiting
            ]
        results: list[Recorded] = []
        for row, found in zip(waiting, matches, strict=True):
            event_id, status, outcome = None, UNMATCHED, row.outcome
            if found.call_id is not None:
                report = _stored(row)
                event_id, status = await self._record_outcome(agency, found.call_id, report)
                await self._set_call(row.id, found.call_id, found.matched_by or UNMATCHED, None)
                outcome = report.outcome
            results.append(Recorded.of(row.id, row.pcr_key, found, status, event_id, outcome))
        return results

    # -- by hand -------------------------------------------------------------------------------
    async def link(self, report_id: int, call_id: str, by: str) -> Recorded:
        """Link a report to a call of its agency by hand and record its outcome there; refused
        when the report is unknown, linked to another call, or the call is not its agency's."""
        row = await self.get(report_id)
        if row is None:
            raise NotFound(f"no EMS report {report_id}", "id")
        if row.call_id is not None and row.call_id != call_id:
            raise Conflicting(
                f"report {report_id} is already linked to call {row.call_id}; its outcome is "
                "recorded there (a qi.review or a corrected outcome fixes a wrong link)",
                "call_id",
            )
        async with self._sessions() as session:
            exists = await session.scalar(
                select(CallRow.call_id).where(
                    CallRow.agency == row.agency, CallRow.call_id == call_id
                )
            )
        if exists is None:
            raise Invalid(f"no call {call_id!r} in agency {row.agency}", "call_id")
        report = _stored(row)
        event_id, status = await self._record_outcome(row.agency, call_id, report)
        if row.call_id is None or row.linked_by is None:
            await self._set_call(row.id, call_id, ems_match.BY_HAND, by)
        return Recorded(
            row.id, row.pcr_key, call_id, ems_match.BY_HAND, status, event_id, report.outcome
        )

    async def _set_call(self, report_id: int, call_id: str, how: str, by: str | None) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(EmsReportRow, report_id)
            if row is None:
                return
            row.call_id = call_id
            row.match = how
            if by is not None:
                row.linked_by = by
                row.linked_at = datetime.now(UTC)

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, report_id: int) -> EmsReportRow | None:
        async with self._sessions() as session:
            return await session.get(EmsReportRow, report_id)

    async def reports(self, agency: str, status: str, limit: int) -> list[EmsReportRow]:
        """Newest first; `status` is "matched", "unmatched" or "all"."""
        query = select(EmsReportRow).where(EmsReportRow.agency == agency)
        if status == "matched":
            query = query.where(EmsReportRow.call_id.is_not(None))
        elif status == UNMATCHED:
            query = query.where(EmsReportRow.call_id.is_(None))
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(EmsReportRow.id.desc()).limit(limit)))

    async def calls_in_period(
        self, agency: str, start: datetime | None, end: datetime | None, limit: int
    ) -> list[tuple[str, list[Event]]]:
        """The agency's calls with start <= T0 < end, in T0 order, each with its events (for the
        linkage extract): one query for the calls, one per chunk of their events."""
        query = select(CallRow.call_id).where(CallRow.agency == agency, CallRow.t0.is_not(None))
        if start is not None:
            query = query.where(CallRow.t0 >= start)
        if end is not None:
            query = query.where(CallRow.t0 < end)
        async with self._sessions() as session:
            call_ids = list(
                await session.scalars(query.order_by(CallRow.t0, CallRow.call_id).limit(limit))
            )
            events = await events_of_calls(session, agency, call_ids)
        return list(events.items())

    @staticmethod
    async def _row_by_key(session: AsyncSession, agency: str, pcr_key: str) -> EmsReportRow | None:
        row: EmsReportRow | None = await session.scalar(
            select(EmsReportRow).where(
                EmsReportRow.agency == agency, EmsReportRow.pcr_key == pcr_key
            )
        )
        return row

    async def _t0(self, agency: str, call_id: str) -> datetime:
        """A report without a single time takes its call's T0 (else the call's first event
        time) as the outcome's `at`, so a re-import still yields the very same event."""
        async with self._sessions() as session:
            t0 = await session.scalar(
                select(CallRow.t0).where(CallRow.agency == agency, CallRow.call_id == call_id)
            )
            if t0 is None:
                t0 = await session.scalar(
                    select(func.min(EventRow.at)).where(
                        EventRow.agency == agency, EventRow.call_id == call_id
                    )
                )
        return t0 if t0 is not None else datetime.now(UTC)


def _bounded(value: str | None) -> str | None:
    """Linkage ids longer than the column are kept in the document only."""
    return value if value is None or len(value) <= 128 else None


def _stored(row: EmsReportRow) -> CareReport:
    """The report as the import read it, from the document kept with it."""
    document = row.document.encode()
    return parse(document, max_bytes=len(document))[0]
