"""CARES-style dispatch rows from folded calls, by hand."""

from __future__ import annotations

from support.timeline import CEST, Timeline, population_call

from service.qi.cares import COLUMNS, cares_row, exported, telecommunicator_cpr
from service.triage.profiles import AHA_2020


def test_row_of_a_call_with_telecommunicator_cpr() -> None:
    # REF is 2024-03-01 10:00:00 -05:00 (15:00Z); Chicago is on CST (-06:00) that day.
    tl = Timeline(call_id="24-000123")
    tl.received(0, psap="PSAP-NORTH")
    tl.transferred(12)
    tl.answered(20, actor="tc-114")
    tl.conscious(35, "no")
    tl.breathing(52.5, "unsure", tz=CEST)  # written in +02:00, same instant
    tl.tcpr_started(70)
    tl.dispatched(80)
    tl.first_compression(118)
    tl.outcome(3600)
    row = cares_row(tl.fold(), AHA_2020, "America/Chicago")
    assert list(row) == list(COLUMNS)
    assert row == {
        "agency": "PSAP1",
        "psap": "PSAP-NORTH",
        "cad_incident_number": "24-000123",
        "date_of_arrest_call": "2024-03-01",
        "call_received_at_psap": "2024-03-01T09:00:00-06:00",
        "call_answered": "2024-03-01T09:00:20-06:00",
        "call_transferred": "2024-03-01T09:00:12-06:00",
        "telecommunicator": "tc-114",
        "arrest_recognized_by_telecommunicator": "Yes",
        "recognition_time": "2024-03-01T09:00:52.500000-06:00",
        "seconds_to_recognition": "52.5",
        "recognition_path": "question",
        "telecommunicator_cpr": "Yes",
        "tcpr_not_given_reason": "",
        "tcpr_instructions_started": "2024-03-01T09:01:10-06:00",
        "first_directed_compression": "2024-03-01T09:01:58-06:00",
        "seconds_to_first_compression": "118",
        "first_unit_dispatched": "2024-03-01T09:01:20-06:00",
        "benchmark_profile": "aha-2020",
        "recognition_benchmark_met": "Yes",
        "first_compression_benchmark_met": "Yes",
        "qi_reviewed": "No",
        "qi_recognizable": "",
    }


def test_unrecognised_call_and_review_corrections() -> None:
    tl = population_call("N1", review={"recognizable": True, "corrections": {}})
    row = cares_row(tl.fold(), AHA_2020, "UTC")
    assert row["date_of_arrest_call"] == "2024-03-01"
    assert row["call_received_at_psap"] == "2024-03-01T15:00:00+00:00"
    assert row["arrest_recognized_by_telecommunicator"] == "No"
    assert row["recognition_time"] == ""
    assert row["seconds_to_recognition"] == ""
    assert row["telecommunicator_cpr"] == "No"
    assert row["recognition_benchmark_met"] == ""
    # A review that is not signed off is a draft: the call is not QI-reviewed yet.
    assert row["qi_reviewed"] == "No"
    assert row["qi_recognizable"] == "Yes"
    signed = population_call("N3", review={"recognizable": True, "signed_off": True})
    assert cares_row(signed.fold(), AHA_2020, "UTC")["qi_reviewed"] == "Yes"

    # The reviewer heard the arrest recognised at +95 s on the recording: the correction wins.
    corrected = population_call(
        "N2",
        review={
            "recognizable": True,
            "corrections": {"ohca.recognized": "2024-03-01T15:01:35+00:00"},
        },
    )
    row = cares_row(corrected.fold(), AHA_2020, "UTC")
    assert row["arrest_recognized_by_telecommunicator"] == "Yes"
    assert row["seconds_to_recognition"] == "95"
    assert row["recognition_path"] == "direct"
    assert row["recognition_benchmark_met"] == "No"


def test_telecommunicator_cpr_yes_no_not_applicable() -> None:
    assert (
        telecommunicator_cpr(
            population_call("Y", to_recognition=40, to_first_compression=130).fold()
        )
        == "Yes"
    )
    in_progress = population_call("NA", to_recognition=40, not_given="cpr_in_progress").fold()
    assert telecommunicator_cpr(in_progress) == "Not applicable"
    refused = population_call("R", to_recognition=40, not_given="caller_refused").fold()
    assert telecommunicator_cpr(refused) == "No"
    row = cares_row(refused, AHA_2020, "UTC")
    assert row["tcpr_not_given_reason"] == "caller_refused"
    assert row["first_compression_benchmark_met"] == ""
    # Instructions begun but no compression recorded: instructions were given.
    started = Timeline(call_id="S")
    started.received(0)
    started.recognized(30)
    started.tcpr_started(50)
    assert telecommunicator_cpr(started.fold()) == "Yes"
    # Instructions begun, then the caller refused before any compression: excluded, not given.
    started.not_given(80, reason="caller_refused")
    assert telecommunicator_cpr(started.fold()) == "No"


def test_a_late_not_given_leaves_the_given_compression_standing() -> None:
    # First compression at 90 s, the caller hung up at 200 s: T-CPR was given (DESIGN.md §5:
    # an exclusion needs no directed first compression), so CARES says Yes like the measures.
    hung_up = population_call("H", to_recognition=40, to_first_compression=90, not_given="hung_up")
    state = hung_up.fold()
    assert state.excluded is False
    row = cares_row(state, AHA_2020, "UTC")
    assert row["telecommunicator_cpr"] == "Yes"
    assert row["tcpr_not_given_reason"] == "hung_up"  # still shown, as recorded


def test_recognition_after_ems_arrival_is_not_the_telecommunicators() -> None:
    tl = population_call("AR")
    tl.on_scene(300)
    tl.recognized(330)  # the crew found the arrest
    row = cares_row(tl.fold(), AHA_2020, "UTC")
    assert row["arrest_recognized_by_telecommunicator"] == "No"
    assert row["seconds_to_recognition"] == "330"


def test_traumatic_arrests_are_left_out_of_the_export() -> None:
    for etiology, kept in [
        ("trauma", False),
        ("Trauma", False),
        ("3002015", False),
        ("traumatic", False),
        ("cardiac", True),
        ("respiratory", True),
        (None, True),
    ]:
        tl = population_call(f"E-{etiology}", to_recognition=40)
        data = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
        if etiology is not None:
            data["etiology"] = etiology
        tl.add("ems.outcome", 3700, data=data)
        assert exported(tl.fold()) is kept, etiology


def test_cad_text_cannot_become_a_spreadsheet_formula() -> None:
    # Call ids, PSAP names and telecommunicator ids come from the CAD as they were typed; a
    # spreadsheet would run a cell starting with = + - @ as a formula.
    tl = Timeline(call_id='=HYPERLINK("http://x","open")')
    tl.received(0, psap="+PSAP")
    tl.answered(20, actor="@tc-114")
    tl.outcome(3600)
    row = cares_row(tl.fold(), AHA_2020, "UTC")
    assert row["cad_incident_number"] == '\'=HYPERLINK("http://x","open")'
    assert row["psap"] == "'+PSAP"
    assert row["telecommunicator"] == "'@tc-114"
    assert row["agency"] == "PSAP1"
