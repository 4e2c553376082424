"""Stored calls as QI reads them: a call's events folded into its state under its agency's
configuration, and the audit draft of that state. The single audit, the audit exports, the CARES
export and the EMS linkage extract all read calls through here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from contract.event import Event
from service.qi.audit import AuditDraft, draft
from service.settings import Settings
from service.store.events import EventStore
from service.triage.call_state import CallState
from service.triage.state import fold


def call_states(
    settings: Settings, agency: str, calls: Iterable[tuple[str, Iterable[Event]]]
) -> Iterator[CallState]:
    """Each (call id, events) of the agency as the call's state."""
    config = settings.agency_config(agency)
    return (fold(agency, call_id, events, config) for call_id, events in calls)


def audit_drafts(
    settings: Settings, agency: str, calls: Iterable[tuple[str, Iterable[Event]]]
) -> Iterator[AuditDraft]:
    """Each (call id, events) of the agency as its audit draft, judged by its profile."""
    profile = settings.agency_config(agency).profile
    return (draft(state, profile) for state in call_states(settings, agency, calls))


async def call_audit(
    store: EventStore, settings: Settings, agency: str, call_id: str
) -> AuditDraft | None:
    """One stored call's audit draft; None when the agency has no such call."""
    events = await store.call_events(agency, call_id)
    return next(audit_drafts(settings, agency, [(call_id, events)])) if events else None
