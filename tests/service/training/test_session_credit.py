"""A training session's credited minutes (service/training/sessions.py): its time, never more than
the longest record a supervisor may enter (a session left running overnight is not 16 hours of
training)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.store.training_sessions import COMPLETED, Played, TrainingSession
from service.training.hours import MAX_RECORD_MINUTES
from service.training.sessions import credited_minutes

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session(minutes: float) -> TrainingSession:
    played = Played("classic_arrest", 1.0, "TRN-1-1", START, START + timedelta(minutes=5))
    return TrainingSession(
        1, "KCE-TRAIN", "KCE", "dana", "sgt", "continuing", COMPLETED,
        START, START + timedelta(minutes=minutes), (played,),
    )  # fmt: skip


def test_a_session_credits_its_time_in_whole_minutes() -> None:
    assert credited_minutes(session(44.6)) == 45
    assert credited_minutes(session(0.2)) == 0


def test_a_session_left_running_credits_at_most_a_long_day() -> None:
    assert credited_minutes(session(60 * 24 * 3)) == MAX_RECORD_MINUTES
