"""A training session's credited minutes (service/training/sessions.py): its time, never more than
the longest record a supervisor may enter (a session left running overnight is not 16 hours of
training)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.store.training_sessions import COMPLETED, Played, TrainingSession
from service.training.hours import MAX_RECORD_MINUTES
from service.training.sessions import credited_minutes

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session(minutes: float, last_call_ended: float | None = None) -> TrainingSession:
    ended = minutes if last_call_ended is None else last_call_ended
    played = Played("classic_arrest", 1.0, "TRN-1-1", START, START + timedelta(minutes=ended))
    return TrainingSession(
        1, "KCE-TRAIN", "KCE", "dana", "sgt", "continuing", COMPLETED,
        START, START + timedelta(minutes=minutes), (played,),
    )  # fmt: skip


def test_a_session_credits_its_time_in_whole_minutes() -> None:
    assert credited_minutes(session(44.6)) == 45
    assert credited_minutes(session(0.2)) == 0


def test_a_session_left_running_credits_at_most_a_long_day() -> None:
    assert credited_minutes(session(60 * 24 * 3)) == MAX_RECORD_MINUTES


def test_a_session_left_open_after_its_last_call_credits_that_calls_debrief_only() -> None:
    """Scenarios played until 09:50, the session ended at 08:00 the next morning: 80 minutes
    (the 50 played and half an hour of debrief), not 23 hours."""
    assert credited_minutes(session(23 * 60, last_call_ended=50)) == 80
    # Ended within the half hour: the session's own end.
    assert credited_minutes(session(65, last_call_ended=50)) == 65
