"""DESIGN.md §2: T0, chronological order by `at` then arrival, duplicates change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from support.timeline import CEST, EST, IST, UTC

from contract.event import Event, chronological
from service.qi.audit import draft
from service.serialise import audit_json
from service.triage.intervals import intervals
from service.triage.profiles import AHA_2020
from service.triage.state import fold, step


def test_t0_is_earliest_call_received(tl):
    tl.received(12, tz=CEST, psap="PSAP-B")
    tl.received(0, tz=EST, psap="PSAP-A")
    tl.answered(20)
    s = tl.fold()
    assert s.t0 == tl.t(0)
    assert s.t0 == datetime(2024, 3, 1, 15, 0, 0, tzinfo=UTC)
    assert s.psap == "PSAP-A"
    assert intervals(s)["to_answer"] == 20.0


def test_t0_falls_back_to_earliest_call_answered(tl):
    tl.answered(30, tz=CEST)
    tl.answered(8, tz=IST)
    tl.recognized(68)
    s = tl.fold()
    assert s.received_at is None
    assert s.t0 == tl.t(8)
    iv = intervals(s)
    assert iv["to_answer"] == 0.0
    assert iv["to_recognition"] == 60.0


def test_no_received_and_no_answered_has_no_t0(tl):
    tl.conscious(10, "no")
    tl.breathing(20, "no")
    s = tl.fold()
    assert s.t0 is None
    assert s.live is False
    assert set(intervals(s).values()) == {None}


def test_call_received_wins_even_when_answered_is_earlier(tl):
    tl.answered(-5)
    tl.received(0)
    s = tl.fold()
    assert s.t0 == tl.t(0)
    assert intervals(s)["to_answer"] == -5.0


def test_out_of_order_arrival_gives_the_same_state(tl):
    tl.received(0, tz=EST)
    tl.answered(9, tz=CEST)
    tl.conscious(20, "no", tz=UTC)
    tl.breathing(31, "unsure", tz=IST)
    tl.dispatched(40)
    tl.tcpr_started(50)
    tl.first_compression(77, tz=CEST)
    in_order = tl.fold()
    reverse = tl.fold(events=list(reversed(tl.events)))
    assert reverse == in_order
    assert [e.event_id for e in reverse.events] == [e.event_id for e in tl.events]
    assert reverse.t0 == tl.t(0)
    assert reverse.recognized_at == tl.t(31)
    assert intervals(reverse) == {
        "to_answer": 9.0,
        "to_recognition": 31.0,
        "to_dispatch": 40.0,
        "to_tcpr_start": 50.0,
        "to_first_compression": 77.0,
        "to_on_scene": None,
    }


def test_chronological_compares_instants_across_offsets(tl):
    a = tl.add("call.received", 0, tz=CEST)  # 17:00+02:00 == 15:00Z
    b = tl.add("call.answered", 1, tz=EST)  # 10:00:01-05:00 == 15:00:01Z
    c = tl.add("call.nature", -1, tz=IST, data={"code": "x"})  # 20:29:59+05:30 == 14:59:59Z
    assert chronological([a, b, c]) == [c, a, b]


def test_same_instant_ordered_by_arrival_then_id(tl):
    x = tl.add("unit.dispatched", 10, data={"unit": "M2"}, arrival=7, event_id="z")
    y = tl.add("unit.dispatched", 10, tz=CEST, data={"unit": "M1"}, arrival=3, event_id="y")
    w = tl.add("unit.dispatched", 10, tz=IST, data={"unit": "M3"}, arrival=3, event_id="a")
    assert chronological([x, y, w]) == [w, y, x]
    s = fold("PSAP1", "C1", [x, y, w])
    assert s.units == ("M3", "M1", "M2")


def test_duplicate_event_changes_no_state_field(tl):
    tl.received(0)
    tl.answered(10)
    tl.conscious(20, "no")
    tl.breathing(30, "no")
    tl.first_compression(100)
    tl.alert(60, "recognition_due")
    base = tl.fold()
    duplicated = tl.fold(events=[*tl.events, tl.events[3], tl.events[0], tl.events[5]])
    for name in base.__dataclass_fields__:
        if name == "events":
            continue
        assert getattr(duplicated, name) == getattr(base, name), name
    assert duplicated.alerts == ("recognition_due",)
    assert duplicated.recognized_at == tl.t(30)


def test_duplicate_redelivery_with_later_arrival_changes_nothing(tl):
    tl.received(0)
    no = tl.conscious(20, "no", tz=CEST)  # arrival 2
    tl.conscious(20, "yes", tz=UTC)  # same instant, arrival 3: the latest answer is "yes"
    tl.breathing(30, "no")
    tl.nature(40, "09-E-01")  # arrival 5
    tl.nature(40, "26-A-01")  # arrival 6
    base = tl.fold()
    assert base.conscious == "yes"
    assert base.path == "nature_code"
    assert base.nature_code == "26-A-01"
    # the store numbers a re-sent event later; the copy must not become "the latest answer"
    again = tl.fold(events=[*tl.events, replace(no, arrival=99), replace(tl.events[4], arrival=98)])
    assert again.conscious == "yes"
    assert again.nature_code == "26-A-01"
    assert again.recognized_at == base.recognized_at == tl.t(40)


def test_duplicate_event_changes_nothing_in_the_audit_draft(tl):
    """§2: re-sending the same event "changes nothing"; the audit must not count it twice."""
    tl.received(0)
    tl.conscious(20, "no")
    tl.breathing(30, "no")
    base = audit_json(draft(tl.fold(), AHA_2020))
    again = audit_json(draft(tl.fold(events=[*tl.events, tl.events[1]]), AHA_2020))
    assert base["event_count"] == 3
    assert again == base


def test_step_lands_a_late_event_in_its_place(tl):
    tl.received(0)
    tl.conscious(20, "no")
    tl.breathing(40, "no")
    s = tl.fold(events=tl.events[:1])
    s = step(s, tl.events[2])
    assert s.recognized is False
    late = Event("late", "C1", "PSAP1", "triage.conscious", tl.t(15), data={"answer": "yes"})
    s = step(s, late)
    s = step(s, tl.events[1])
    # conscious yes(15) -> no(20), breathing no(40): recognised at 40
    assert s.recognized_at == tl.t(40)
    assert s == tl.fold(events=[*tl.events, late])
