"""The AHA continuing-education rule (service/training/hours.py) on a hand-made history: exact
minutes and statuses across the 12-month boundary, initial training incomplete, a new hire not
yet due, and people about to lapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.training.hours import Training, add_months, compliance

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def t(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def initial(day: str, minutes: int) -> Training:
    return Training("initial", minutes, t(day))


def ce(day: str, minutes: int, hour: int = 12) -> Training:
    return Training("continuing", minutes, t(day, hour))


# Who did what, by hand. NOW is 15 March 2026 at noon UTC: the window is (15 March 2025 12:00,
# 15 March 2026 12:00].
HISTORY: dict[str, list[Training]] = {
    # 60 min exactly 12 months ago (out), 60 the day after (in), 60 in September (in): 120.
    # The March 2025 hour leaves the window tomorrow at noon, leaving 60: due in 1 day.
    "ana": [
        initial("2024-01-10", 240),
        ce("2025-03-15", 60),
        ce("2025-03-16", 60),
        ce("2025-09-01", 60),
    ],
    # 150 min; the June hour and a half leaves on 1 June: 78 days away, past the 60-day look.
    "ben": [initial("2023-05-01", 180), ce("2025-06-01", 90), ce("2025-12-01", 60)],
    # Two hours of initial training: not 3.
    "cal": [initial("2026-02-01", 120)],
    # New hire: initial complete on 8 November 2025 (2 h + 2 h): CE first due 8 November 2026.
    "dee": [initial("2025-11-01", 120), initial("2025-11-08", 120)],
    # Three hours of CE, all of it 14 months ago: due now.
    "eve": [initial("2024-02-01", 240), ce("2025-01-01", 180)],
    # First year ends 4 April 2026 (20 days) with only 30 min of CE: due then.
    "fay": [initial("2025-04-04", 200), ce("2025-10-10", 30)],
    # Three hours planned for April: a plan, not training. Initial training does not count as
    # continuing education.
    "gus": [initial("2020-01-01", 240), initial("2025-12-01", 240), ce("2026-04-01", 180)],
    # Nothing at all.
    "hal": [],
}


def standing(person: str) -> tuple[str, int, int, datetime | None, int | None]:
    c = compliance(person, HISTORY[person], NOW, UTC)
    return c.status, c.initial_minutes, c.ce_minutes, c.ce_due_on, c.due_soon


def test_hours_and_statuses_of_the_hand_made_history() -> None:
    assert standing("ana") == ("compliant", 240, 120, t("2025-03-16") + timedelta(days=365), 30)
    assert standing("ben") == ("compliant", 180, 150, None, None)
    assert standing("cal") == ("initial_incomplete", 120, 0, None, None)
    assert standing("dee") == ("compliant", 240, 0, None, None)
    assert standing("eve") == ("ce_due", 240, 0, None, None)
    assert standing("fay") == ("compliant", 200, 30, t("2026-04-04"), 30)
    assert standing("gus") == ("ce_due", 480, 0, None, None)
    assert standing("hal") == ("initial_incomplete", 0, 0, None, None)


def test_the_new_hire_is_not_yet_due_and_says_from_when() -> None:
    dee = compliance("dee", HISTORY["dee"], NOW, UTC)
    assert dee.initial_completed_at == t("2025-11-08")
    assert dee.ce_not_yet_due is True
    assert dee.ce_required_from == t("2026-11-08")
    eve = compliance("eve", HISTORY["eve"], NOW, UTC)
    assert eve.ce_not_yet_due is False and eve.ce_required_from == t("2025-02-01")
    assert compliance("cal", HISTORY["cal"], NOW, UTC).ce_required_from is None


def test_the_twelve_month_boundary_to_the_second() -> None:
    start = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
    records = [initial("2020-01-01", 240), Training("continuing", 120, start)]
    assert compliance("x", records, NOW, UTC).status == "ce_due"  # exactly 12 months: out
    records[1] = Training("continuing", 120, start + timedelta(seconds=1))
    inside = compliance("x", records, NOW, UTC)
    assert (inside.status, inside.ce_minutes) == ("compliant", 120)
    assert inside.ce_window_from == start
    # It leaves the window one second after now: due at once, within 30 days.
    assert inside.ce_due_on == NOW + timedelta(seconds=1) and inside.due_soon == 30
    # 119 minutes is under 2 h; 120 is 2 h.
    records[1] = Training("continuing", 119, start + timedelta(seconds=1))
    assert compliance("x", records, NOW, UTC).status == "ce_due"


def test_due_within_60_days_but_not_30() -> None:
    records = [initial("2020-01-01", 240), ce("2025-05-01", 120), ce("2025-05-20", 60)]
    c = compliance("x", records, NOW, UTC)
    # 1 May 2026 leaves 60 min: 47 days away.
    assert (c.status, c.ce_minutes, c.ce_due_on, c.due_soon) == (
        "compliant",
        180,
        t("2026-05-01"),
        60,
    )


def test_the_initial_training_is_complete_at_the_record_that_reaches_three_hours() -> None:
    records = [initial("2025-01-01", 100), initial("2025-02-01", 79)]
    assert compliance("x", records, NOW, UTC).status == "initial_incomplete"
    records.append(initial("2025-03-01", 1))
    done = compliance("x", records, NOW, UTC)
    assert done.initial_completed_at == t("2025-03-01") and done.initial_minutes == 180
    # As of a day before that record, it was not complete.
    before = compliance("x", records, t("2025-02-28"), UTC)
    assert before.status == "initial_incomplete" and before.initial_minutes == 179


def test_months_are_the_agencys_calendar() -> None:
    chicago = ZoneInfo("America/Chicago")
    # A course on 10 March 2025 at local midnight (CDT began 9 March): counts through 9 March
    # 2026, gone at local midnight on the 10th, though UTC offsets differ across the year.
    taken = datetime(2025, 3, 10, tzinfo=chicago)
    records = [Training("initial", 240, datetime(2020, 1, 1, tzinfo=chicago))]
    records.append(Training("continuing", 120, taken))
    last_moment = datetime(2026, 3, 9, 23, 59, 59, tzinfo=chicago)
    assert compliance("x", records, last_moment, chicago).status == "compliant"
    assert compliance("x", records, datetime(2026, 3, 10, tzinfo=chicago), chicago).status == (
        "ce_due"
    )
    assert add_months(datetime(2024, 3, 31, tzinfo=UTC), -1, UTC) == datetime(
        2024, 2, 29, tzinfo=UTC
    )
    assert add_months(datetime(2025, 1, 31, tzinfo=UTC), 13, UTC) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
