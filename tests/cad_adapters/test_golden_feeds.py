"""Golden timelines from real feeds: rows of the shared RVFD export and NENA's EIDO sample, each
through its own adapter, then the wire model ingest uses, the fold, the alert schedule and the
audit draft. Pure functions only: no database, no network.

Every expected value is worked out by hand from the raw sample text (the arithmetic is in the
comments), never from the service's own output. The samples stay in ../shared beside the checkout
(CI has it); without it these tests skip and say why.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support.paths import SHARED

from cad_adapters import eido
from cad_adapters.core import Record
from cad_adapters.delimited import DelimitedFormat
from cad_adapters.mapping import load_mapping
from contract.event import Event
from contract.kinds import Kind
from contract.wire import CanonicalEvent
from service.qi.audit import draft
from service.qi.summary import summarize
from service.serialise import audit_json
from service.triage.alerts import applicable, due, next_deadline
from service.triage.call_state import CallState, phase
from service.triage.profiles import AHA_2020, DEFAULT_CONFIG, RA_LEGACY, AgencyConfig
from service.triage.state import fold

RVFD = SHARED / "samples" / "rvfd_calls_2010_2020_subset.csv"
NENA = SHARED / "standards" / "eido" / "samples" / "sample_call_transfer_EIDO.json"
AGENCY = "RV"
CDT = timezone(timedelta(hours=-5))  # US Central daylight time (RVFD, summer)
CST = timezone(timedelta(hours=-6))  # US Central standard time (RVFD, winter)
EDT = timezone(timedelta(hours=-4))  # the NENA sample's own offset
NO_INTERVALS = dict.fromkeys(
    ["to_answer", "to_recognition", "to_dispatch", "to_tcpr_start", "to_first_compression",
     "to_on_scene"]
)  # fmt: skip


def sample(path: Path) -> bytes:
    if not path.is_file():
        pytest.skip(f"the shared feed sample is not at {path} (CI has ../shared)")
    return path.read_bytes()


def ingested(records: list[Record]) -> list[Event]:
    """The adapter's records as the service stores them: through the wire model, sequenced in
    the order they were posted (the store's arrival order breaks ties of `at`)."""
    return [
        dataclasses.replace(CanonicalEvent.model_validate(r).to_event(), arrival=i)
        for i, r in enumerate(records, start=1)
    ]


def rvfd_call(incident: str, config: AgencyConfig = DEFAULT_CONFIG) -> CallState:
    """One incident of the RVFD export through the `rvfd` preset, folded."""
    header, *rows = sample(RVFD).split(b"\n")
    (row,) = [r for r in rows if r.split(b",")[1:2] == [incident.encode()]]  # the incident_num
    stream = DelimitedFormat(load_mapping("rvfd"), AGENCY).stream()
    assert stream.parse(header) == []
    events = ingested(stream.parse(row))
    return fold(AGENCY, incident, events, config)


def entries(d: dict[str, Any]) -> list[tuple[str, str, float | None, str, bool]]:
    return [
        (e["kind"], e["at"], e["seconds"], e["description"], e["recognition"])
        for e in d["timeline"]
    ]


# --- RVFD: an arrest call -------------------------------------------------------------------
# Row 11011707 of the export, verbatim:
#   0,11011707,7/14/11 12:00 AM,...,MN,9E1,
#   "RAYM1=17:35:47, RAYM10=17:35:47, M2=17:35:47, RAYM10=17:47:33, RAYM11=17:47:33",  dispatch
#   "M2=17:37:13, RAYM1=17:37:24, RAYM11=17:47:38",                                    en route
#   RAYM11=17:49:19,                                                                    arrive
# 14 July 2011 is daylight time in Lancaster County, Nebraska: -05:00.


def test_rvfd_arrest_call_state() -> None:
    state = rvfd_call("11011707")
    dispatched = datetime(2011, 7, 14, 17, 35, 47, tzinfo=CDT)
    on_scene = datetime(2011, 7, 14, 17, 49, 19, tzinfo=CDT)
    # The export has no call-received nor answer time: no T0, so no interval from T0 and nothing
    # live to alert on.
    assert (state.t0, state.t0_source, state.live) == (None, None, False)
    assert (state.dispatched_at, state.on_scene_at) == (dispatched, on_scene)
    # 17:49:19 - 17:35:47 = 13 min 32 s = 812 s from first dispatch to first arrival.
    assert (state.on_scene_at - state.dispatched_at).total_seconds() == 812
    # RAYM10 is dispatched twice (17:35:47 and 17:47:33): two events, one unit.
    assert state.units == ("RAYM1", "RAYM10", "M2", "RAYM11")
    assert len(state.events) == 7  # 5 dispatches + 1 nature + 1 arrival
    # 9E1 is MPDS protocol 9, Echo: cardiac arrest, known by the first dispatch (the preset
    # places call_type there), before any unit arrived.
    assert (state.nature_code, state.recognized_at) == ("9E1", dispatched)
    assert state.path == "nature_code"
    assert state.telecommunicator_recognized and not state.recognition_after_arrival
    assert (phase(state), state.in_scope) == ("recognized", True)
    assert applicable(state, AHA_2020, dispatch_alerts=True) == []


def test_rvfd_arrest_call_audit() -> None:
    d = audit_json(draft(rvfd_call("11011707"), AHA_2020))
    assert (d["t0"], d["t0_source"], d["intervals"]) == (None, None, NO_INTERVALS)
    assert d["benchmarks"] == {"recognition_met": None, "first_compression_met": None}
    assert d["dispatch_met"] is None  # no T0: the dispatch cannot be judged in time or late
    assert d["timestamps"] == {
        "call_received": None,
        "call_transferred": None,
        "call_answered": None,
        "recognized": "2011-07-14T17:35:47-05:00",
        "tcpr_started": None,
        "first_compression": None,
        "unit_dispatched": "2011-07-14T17:35:47-05:00",
        "unit_on_scene": "2011-07-14T17:49:19-05:00",
        "call_ended": None,
    }
    assert (d["recognized"], d["recognition_path"], d["nature"]) == (
        True,
        "nature_code",
        {"code": "9E1", "text": None},
    )
    assert (d["alerts"], d["suggested_reasons"], d["event_count"]) == ([], [], 7)
    # Same-time events keep the order the adapter posted them (dispatch list first, the nature
    # after it); seconds are None without a T0.
    assert entries(d) == [
        ("unit.dispatched", "2011-07-14T17:35:47-05:00", None, "Unit RAYM1 dispatched", False),
        ("unit.dispatched", "2011-07-14T17:35:47-05:00", None, "Unit RAYM10 dispatched", False),
        ("unit.dispatched", "2011-07-14T17:35:47-05:00", None, "Unit M2 dispatched", False),
        ("call.nature", "2011-07-14T17:35:47-05:00", None, "Nature 9E1", True),
        ("unit.dispatched", "2011-07-14T17:47:33-05:00", None, "Unit RAYM10 dispatched", False),
        ("unit.dispatched", "2011-07-14T17:47:33-05:00", None, "Unit RAYM11 dispatched", False),
        ("unit.on_scene", "2011-07-14T17:49:19-05:00", None, "Unit RAYM11 on scene", False),
    ]
    summary = summarize(rvfd_call("11011707"))
    assert (summary.t0, summary.to_recognition, summary.recognized) == (None, None, True)
    assert (summary.in_population, summary.has_ems_outcome) == (False, False)


# Row 16022404, verbatim (the export's later date format):
#   0,16022404,11/8/16 0:00,...,MN,9D1,
#   "RAYM1=23:25:56, RAYM10=23:25:56, M5=23:25:56, RAYM11=23:29:44, EMS1=23:30:00",     dispatch
#   "M5=23:27:21, RAYM11=23:29:44, EMS1=23:30:00, RAYM1=23:34:27, RAYM10=23:38:29",     en route
#   "RAYM10=23:39:25, RAYM1=23:39:28, RAYM11=23:41:12, M5=23:45:00, EMS1=23:48:11",     arrive
# 8 November 2016 is two days after the clocks went back: standard time, -06:00.


def test_rvfd_arrest_call_late_in_the_evening() -> None:
    state = rvfd_call("16022404")
    first = datetime(2016, 11, 8, 23, 25, 56, tzinfo=CST)
    assert (state.dispatched_at, state.recognized_at, state.path) == (
        first,
        first,
        "nature_code",
    )
    # 23:39:25 - 23:25:56 = 13 min 29 s = 809 s to the first arrival (RAYM10).
    assert (state.on_scene_at - first).total_seconds() == 809
    # The ambulance M5: dispatched 23:25:56, arrived 23:45:00: 19 min 4 s = 1144 s.
    m5 = {e.kind: e.at for e in state.events if e.data.get("unit") == "M5"}
    assert (m5[Kind.UNIT_ON_SCENE] - m5[Kind.UNIT_DISPATCHED]).total_seconds() == 1144
    assert state.units == ("RAYM1", "RAYM10", "M5", "RAYM11", "EMS1")
    d = audit_json(draft(state, AHA_2020))
    assert (d["t0"], d["intervals"], d["alerts"], d["event_count"]) == (None, NO_INTERVALS, [], 11)
    assert [(e["kind"], e["at"][11:]) for e in d["timeline"]] == [
        ("unit.dispatched", "23:25:56-06:00"),  # RAYM1
        ("unit.dispatched", "23:25:56-06:00"),  # RAYM10
        ("unit.dispatched", "23:25:56-06:00"),  # M5
        ("call.nature", "23:25:56-06:00"),  # 9D1
        ("unit.dispatched", "23:29:44-06:00"),  # RAYM11
        ("unit.dispatched", "23:30:00-06:00"),  # EMS1
        ("unit.on_scene", "23:39:25-06:00"),  # RAYM10
        ("unit.on_scene", "23:39:28-06:00"),  # RAYM1
        ("unit.on_scene", "23:41:12-06:00"),  # RAYM11
        ("unit.on_scene", "23:45:00-06:00"),  # M5
        ("unit.on_scene", "23:48:11-06:00"),  # EMS1
    ]
    assert {e["at"][:10] for e in d["timeline"]} == {"2016-11-08"}


# --- RVFD: an ordinary medical call -----------------------------------------------------------
# Row 10000431, verbatim:
#   15555,10000431,1/7/10 12:00 AM,...,MA,26C2,
#   "MALC1=19:49:33, RAYM11=19:54:17, M3=19:56:01",   dispatch
#   "MALC1=19:51:49, RAYM11=20:06:11",                arrive
# 7 January 2010 is standard time: -06:00. 26C2 is MPDS protocol 26 (sick person), Charlie.


def test_rvfd_ordinary_call_state_and_audit() -> None:
    state = rvfd_call("10000431")
    assert state.t0 is None and not state.live
    assert state.dispatched_at == datetime(2010, 1, 7, 19, 49, 33, tzinfo=CST)
    assert state.on_scene_at == datetime(2010, 1, 7, 19, 51, 49, tzinfo=CST)
    # 19:51:49 - 19:49:33 = 2 min 16 s = 136 s.
    assert (state.on_scene_at - state.dispatched_at).total_seconds() == 136
    assert state.units == ("MALC1", "RAYM11", "M3")
    # A sick-person determinant is medical but no arrest, and nobody asked the two questions.
    assert (state.nature_code, state.recognized, state.ruled_out) == ("26C2", False, False)
    assert (phase(state), state.in_scope) == ("ask_conscious", True)
    assert applicable(state, AHA_2020, dispatch_alerts=True) == []
    d = audit_json(draft(state, AHA_2020))
    assert (d["t0"], d["intervals"], d["dispatch_met"]) == (None, NO_INTERVALS, None)
    assert (d["recognized"], d["recognition_path"], d["alerts"]) == (False, None, [])
    assert (d["timestamps"]["unit_dispatched"], d["timestamps"]["unit_on_scene"]) == (
        "2010-01-07T19:49:33-06:00",
        "2010-01-07T19:51:49-06:00",
    )
    # In time order whatever column the time came from: the first arrival (19:51:49) lands
    # between the first dispatch (19:49:33) and the second (19:54:17).
    assert entries(d) == [
        ("unit.dispatched", "2010-01-07T19:49:33-06:00", None, "Unit MALC1 dispatched", False),
        ("call.nature", "2010-01-07T19:49:33-06:00", None, "Nature 26C2", False),
        ("unit.on_scene", "2010-01-07T19:51:49-06:00", None, "Unit MALC1 on scene", False),
        ("unit.dispatched", "2010-01-07T19:54:17-06:00", None, "Unit RAYM11 dispatched", False),
        ("unit.dispatched", "2010-01-07T19:56:01-06:00", None, "Unit M3 dispatched", False),
        ("unit.on_scene", "2010-01-07T20:06:11-06:00", None, "Unit RAYM11 on scene", False),
    ]


# Row 10000162 (1/3/10, FIREA: a local fire type, no MPDS determinant), "VALP1=08:17:59" dispatched
# and "VALP1=08:30:10" arrived: 12 min 11 s = 731 s. Under alert_scope "medical" only the
# medical determinants are in scope.
@pytest.mark.parametrize(
    ("incident", "medical"), [("11011707", True), ("10000431", True), ("10000162", False)]
)
def test_rvfd_alert_scope_medical(incident: str, medical: bool) -> None:
    assert rvfd_call(incident, AgencyConfig(alert_scope="medical")).in_scope is medical


def test_rvfd_fire_call_times() -> None:
    state = rvfd_call("10000162")
    assert (state.dispatched_at, state.on_scene_at) == (
        datetime(2010, 1, 3, 8, 17, 59, tzinfo=CST),
        datetime(2010, 1, 3, 8, 30, 10, tzinfo=CST),
    )
    assert (state.on_scene_at - state.dispatched_at).total_seconds() == 731
    assert (state.nature_code, state.units, state.recognized) == ("FIREA", ("VALP1",), False)


# --- NENA's EIDO sample ---------------------------------------------------------------------
# sample_call_transfer_EIDO.json, its one callComponent:
#   "callStartTimestamp": "2021-04-30T14:40:00.0-04:00"   -> call.received, T0
#   "answerDate":         "2021-04-30T14:42:00.0-04:00"   -> call.answered
#   "agentReference": [{"$ref": "tjones.atroop@state.pa.us"}], "updatedByAgencyReference":
#   {"$ref": "state.pa.us"}, "callStateRegistryText": "callAnswered" (not ended: live);
# no incidentComponent (no nature), no emergencyResourceComponent (no units).
T0 = datetime(2021, 4, 30, 14, 40, 0, tzinfo=EDT)
LAST_UPDATE = datetime(2021, 4, 30, 14, 43, 49, 439000, tzinfo=EDT)  # the document's own stamp
CALL = "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"


def nena_events() -> list[Event]:
    return ingested(eido.parse(sample(NENA), "PSAP1"))


def test_nena_eido_state() -> None:
    state = fold("PSAP1", CALL, nena_events())
    assert (state.t0, state.t0_source) == (T0, Kind.CALL_RECEIVED)
    assert state.answered_at == datetime(2021, 4, 30, 14, 42, 0, tzinfo=EDT)
    assert (state.telecommunicator, state.psap) == ("tjones.atroop@state.pa.us", "state.pa.us")
    assert (state.live, state.in_scope, state.recognized, state.ruled_out) == (
        True,
        True,
        False,
        False,
    )
    assert (state.nature_code, state.units, phase(state)) == (None, (), "ask_conscious")
    # No nature code and no console event: outside a "medical" alert scope.
    assert not fold("PSAP1", CALL, nena_events(), AgencyConfig(alert_scope="medical")).in_scope


def test_nena_eido_alerts() -> None:
    state = fold("PSAP1", CALL, nena_events())
    # Neither recognised nor ruled out: aha-2020 warns at T0 + 60 s = 14:41:00 and is overdue at
    # T0 + 90 s = 14:41:30; ra-legacy at T0 + 90 s = 14:41:30 and T0 + 120 s = 14:42:00.
    assert [(a.alert, a.deadline) for a in applicable(state, AHA_2020)] == [
        ("recognition_due", datetime(2021, 4, 30, 14, 41, 0, tzinfo=EDT)),
        ("recognition_overdue", datetime(2021, 4, 30, 14, 41, 30, tzinfo=EDT)),
    ]
    assert [(a.alert, a.deadline) for a in applicable(state, RA_LEGACY)] == [
        ("recognition_due", datetime(2021, 4, 30, 14, 41, 30, tzinfo=EDT)),
        ("recognition_overdue", datetime(2021, 4, 30, 14, 42, 0, tzinfo=EDT)),
    ]
    # At 14:41:10 only the warning is due; at the document's last update, 14:43:49.439, both
    # (the warning 2 min 49.439 s late, inside the 5 min grace).
    at_41_10 = datetime(2021, 4, 30, 14, 41, 10, tzinfo=EDT)
    assert [a.alert for a in due(state, AHA_2020, at_41_10)] == ["recognition_due"]
    assert [a.alert for a in due(state, AHA_2020, LAST_UPDATE)] == [
        "recognition_due",
        "recognition_overdue",
    ]
    # 14:40:30 is before both: the next look is the warning at 14:41:00.
    at_40_30 = datetime(2021, 4, 30, 14, 40, 30, tzinfo=EDT)
    assert next_deadline(state, AHA_2020, at_40_30) == datetime(2021, 4, 30, 14, 41, tzinfo=EDT)
    # Nothing called for a dispatch (no answer to either question): no dispatch alert.
    assert [a.alert for a in applicable(state, AHA_2020, dispatch_alerts=True)] == [
        "recognition_due",
        "recognition_overdue",
    ]


def test_nena_eido_audit_with_its_alerts() -> None:
    events = nena_events()
    state = fold("PSAP1", CALL, events)
    # The alerts as the scheduler stores them when they fall due (service.scheduler).
    raised = [
        Event(
            event_id=a.event_id,
            call_id=CALL,
            agency="PSAP1",
            kind=Kind.ALERT_RAISED,
            at=a.deadline,
            source="system",
            data={"alert": a.alert},
            arrival=len(events) + i,
        )
        for i, a in enumerate(due(state, AHA_2020, LAST_UPDATE), start=1)
    ]
    state = fold("PSAP1", CALL, [*events, *raised])
    assert applicable(state, AHA_2020) == []  # each alert once per call
    d = audit_json(draft(state, AHA_2020))
    # 14:42:00 - 14:40:00 = 120 s to answer; nothing else has happened.
    assert d["intervals"] == {**NO_INTERVALS, "to_answer": 120.0}
    assert (d["t0"], d["t0_source"]) == ("2021-04-30T14:40:00-04:00", Kind.CALL_RECEIVED)
    assert d["benchmarks"] == {"recognition_met": None, "first_compression_met": None}
    assert (d["dispatch_met"], d["recognized"], d["live"]) == (None, False, True)
    assert d["alerts"] == ["recognition_due", "recognition_overdue"]
    assert (d["telecommunicator"], d["psap"], d["units"]) == (
        "tjones.atroop@state.pa.us",
        "state.pa.us",
        [],
    )
    # No transfer (one call leg) and no script question: nothing to suggest.
    assert d["suggested_reasons"] == []
    assert entries(d) == [
        ("call.received", "2021-04-30T14:40:00-04:00", 0.0, "911 call connected at state.pa.us",
         False),
        ("alert.raised", "2021-04-30T14:41:00-04:00", 60.0, "Alert: recognition due", False),
        ("alert.raised", "2021-04-30T14:41:30-04:00", 90.0, "Alert: recognition overdue", False),
        ("call.answered", "2021-04-30T14:42:00-04:00", 120.0,
         "Answered by tjones.atroop@state.pa.us", False),
    ]  # fmt: skip
    summary = summarize(state)
    assert (summary.t0, summary.t0_source, summary.to_recognition) == (T0, Kind.CALL_RECEIVED, None)
    assert (summary.recognized, summary.telecommunicator) == (False, "tjones.atroop@state.pa.us")
