"""NEMSIS v3.5 import (service/qi/nemsis.py) and the EMS match rules (service/qi/ems_match.py).

The three official NEMSIS compliance records in ../shared/ are read with values checked by hand
against the files; small hand-written documents cover not-values, malformed input and attacks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from support.paths import SHARED

from contract.data_models import EmsOutcomeData
from service.qi import nemsis_codes
from service.qi.ems_match import match, outcome_event_id
from service.qi.nemsis import CareReport, NemsisError, parse

NEMSIS = SHARED / "standards" / "nemsis"
SAMPLES = NEMSIS / "samples"


def sample(name: str) -> CareReport:
    if not SAMPLES.is_dir():
        pytest.skip(f"the shared NEMSIS samples are not at {SAMPLES} (CI has ../shared)")
    reports = parse((SAMPLES / name).read_bytes())
    assert len(reports) == 1
    return reports[0]


def tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# -- the official samples ---------------------------------------------------------------------


def test_2022_ems_1_arrest_before_ems_with_cpr_begun_before_the_call() -> None:
    r = sample("2022-EMS-1-Cardiac-Transport_v350.xml")
    assert r.pcr_key == "2022-EMS-1-CardiacTransport_v350"
    assert r.uuid == "bd657192-9e53-4255-81d4-aeb38e91ae76"
    assert r.cad_record_id == "20211006-0847"
    assert r.incident_number == "350-2021100700394"
    assert r.psap_call_at == datetime(2021, 10, 6, 10, 47, 53, tzinfo=tz(-7))
    assert r.outcome_at == datetime(2021, 10, 6, 11, 52, 2, tzinfo=tz(-7))  # eTimes.16
    o = r.outcome
    # eArrest.01 3001003, eArrest.03 3003001/3/5: in the T-CPR population.
    assert (o["ohca"], o["resuscitation_attempted"], o["ems_witnessed"]) == (True, True, False)
    assert o["cardiac_arrest"] == "before_ems_arrival"
    assert o["etiology"] == "cardiac"
    # eArrest.19 10:46:30 is 83 s before eTimes.01 10:47:53: CPR began before the 911 call.
    assert o["cpr_started_at"] == "2021-10-06T10:46:30-07:00"
    assert o["cpr_before_call"] is True
    assert o["seconds_call_to_cpr"] == -83.0
    assert o["cpr_initiated_by"] == "family_member"  # 3020003
    assert o["arrest_witnessed_by"] == ["family_member", "bystander"]  # 3004003, 3004007
    assert o["emd_performed"] == "with_pre_arrival_instructions"  # eDispatch.02 2302003
    assert o["pre_arrival_instructions"] is True
    assert o["rosc"] is True  # 3012005
    assert o["arrest_end"] == "rosc_in_field"  # 3018007
    # eOutcome.01 09 (admitted), eOutcome.02 01 (discharged home): survived to discharge.
    assert o["survived"] is True
    # ePatient.13 9906001 (3.5.0 Gender), ePatient.14 2514009, ePatient.15/16 65 2516009.
    assert (o["sex"], o["race"]) == ("female", "native_hawaiian_or_other_pacific_islander")
    assert o["age_years"] == 65 and isinstance(o["age_years"], int)
    assert o["first_rhythm"] == "ventricular_fibrillation"
    assert o["arrest_at"] == "2021-10-06T10:45:58-07:00"
    assert o["pcr_key"] == r.pcr_key


def test_2025_ems_2_traumatic_arrest_before_ems_call_to_cpr_60_seconds() -> None:
    r = sample("2025-EMS-2-Suicide_v351.xml")
    assert r.pcr_key == "2025-EMS-2-Suicide_v351"
    assert r.cad_record_id == "246469"
    assert r.incident_number == "351-24.46519"
    assert r.psap_call_at == datetime(2024, 10, 9, 6, 21, tzinfo=tz(-4))
    o = r.outcome
    assert (o["ohca"], o["resuscitation_attempted"], o["ems_witnessed"]) == (True, True, False)
    assert o["etiology"] == "trauma"  # 3002015
    assert o["cpr_started_at"] == "2024-10-09T06:22:00-04:00"
    assert o["seconds_call_to_cpr"] == 60.0
    assert o["cpr_before_call"] is False
    assert o["resuscitation"] == ["attempted_ventilation", "initiated_chest_compressions"]
    assert o["arrest_witnessed_by"] == ["not_witnessed"]
    # eArrest.14 is xsi:nil with a pertinent negative (PN="8801023"): no time, no error.
    assert o["arrest_at"] is None
    assert o["rosc"] is False  # 3012001
    assert (o["arrest_end"], o["survived"]) == ("expired_in_field", False)  # 3018003
    # ePatient.13 is a not-value; ePatient.25 9919003. Races 2514001, 2514007, 2514011.
    assert (o["sex"], o["age_years"]) == ("male", 32)
    assert o["race"] == "american_indian_or_alaska_native+hispanic_or_latino+white"
    assert o["emd_performed"] == "unknown_if_pre_arrival_instructions"  # 2302007
    assert o["pre_arrival_instructions"] is None


def test_2024_ems_3_arrest_after_ems_arrival_is_ems_witnessed() -> None:
    r = sample("2024-EMS-3-MCI-Arrest_v350.xml")
    assert r.pcr_key == "2024-EMS-3-MciArrest_v350"
    assert r.cad_record_id == "LC23-18308"
    assert r.incident_number == "350-2024-EMS3"
    assert r.psap_call_at == datetime(2023, 10, 9, 17, 58, 2, tzinfo=tz(-6))
    o = r.outcome
    # eArrest.01 3001005: EMS-witnessed, so outside the population although attempted.
    assert (o["ohca"], o["resuscitation_attempted"], o["ems_witnessed"]) == (True, True, True)
    assert o["cardiac_arrest"] == "after_ems_arrival"
    assert o["cpr_initiated_by"] == "transport_ems"  # 3020013
    assert o["cpr_before_call"] is False
    assert o["emd_performed"] == "no"
    assert o["pre_arrival_instructions"] is False
    # eOutcome.01 09 (admitted), eOutcome.02 02 (transferred to another acute hospital): alive
    # when it left, but survival to discharge is that hospital's to tell.
    assert o["survived"] is None
    assert (o["sex"], o["race"], o["age_years"]) == ("female", "black_or_african_american", 73)


@pytest.mark.parametrize(
    "name",
    [
        "2022-EMS-1-Cardiac-Transport_v350.xml",
        "2025-EMS-2-Suicide_v351.xml",
        "2024-EMS-3-MCI-Arrest_v350.xml",
    ],
)
def test_outcomes_pass_the_wire_model_and_survive_the_kept_document(name: str) -> None:
    r = sample(name)
    EmsOutcomeData.model_validate(r.outcome)
    again = parse(r.document.encode())
    assert [(a.pcr_key, a.outcome, a.outcome_at) for a in again] == [
        (r.pcr_key, r.outcome, r.outcome_at)
    ]


def test_code_tables_match_the_nemsis_dictionary() -> None:
    enumerations = NEMSIS / "EMSDataSet_ElementEnumerations.txt"
    if not enumerations.is_file():
        pytest.skip(f"the NEMSIS data dictionary is not at {enumerations} (CI has ../shared)")
    known: set[tuple[str, str]] = set()
    for line in enumerations.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        fields = [f.strip("'") for f in line.split("'|'")]
        if len(fields) >= 4:
            known.add((fields[1], fields[3]))
    missing = [
        (element, code)
        for element, table in nemsis_codes.CODE_TABLES.items()
        for code in table
        if (element, code) not in known
    ]
    assert missing == []


def test_survival_by_disposition_follows_the_dictionary_descriptions() -> None:
    enumerations = NEMSIS / "EMSDataSet_ElementEnumerations.txt"
    if not enumerations.is_file():
        pytest.skip(f"the NEMSIS data dictionary is not at {enumerations} (CI has ../shared)")
    tables = {
        "eOutcome.01": nemsis_codes.ED_DISPOSITION_SURVIVED,
        "eOutcome.02": nemsis_codes.HOSPITAL_DISPOSITION_SURVIVED,
    }
    seen: dict[str, dict[str, bool | None]] = {element: {} for element in tables}
    # A move to another acute hospital leaves survival to discharge to that hospital.
    acute = ("another short term general hospital", "Critical Access Hospital")
    for line in enumerations.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        fields = [f.strip("'") for f in line.split("'|'")]
        if len(fields) >= 5 and fields[1] in tables:
            description = fields[4]
            seen[fields[1]][fields[3]] = (
                False
                if description.startswith("Deceased/Expired")
                else None
                if any(place in description for place in acute)
                else True
                if description.startswith("Discharged")
                else None
            )
    # Every code of both lists is known, and alive/dead/unsaid as its description says.
    assert seen == tables


# -- hand-written documents -------------------------------------------------------------------


def document(
    pcr_body: str, *, namespace: str = "http://www.nemsis.org", uuid: str = "U-1"
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EMSDataSet xmlns="{namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Header>
    <DemographicGroup><dAgency.01>1</dAgency.01><dAgency.02>A1</dAgency.02>
      <dAgency.04>29</dAgency.04></DemographicGroup>
    <PatientCareReport UUID="{uuid}">
{pcr_body}
    </PatientCareReport>
  </Header>
</EMSDataSet>""".encode()


NV_REPORT = """
      <eRecord><eRecord.01 xsi:nil="true" NV="7701003"/></eRecord>
      <eResponse><eResponse.03 xsi:nil="true" NV="7701001"/></eResponse>
      <eDispatch><eDispatch.02 xsi:nil="true" NV="7701003"/><eDispatch.06>  CAD-7  </eDispatch.06>
      </eDispatch>
      <eTimes><eTimes.01 xsi:nil="true" NV="7701003"/>
        <eTimes.03>2026-02-01T08:00:30+00:00</eTimes.03></eTimes>
      <eArrest>
        <eArrest.01>3001003</eArrest.01>
        <eArrest.02 xsi:nil="true" NV="7701003"/>
        <eArrest.03 xsi:nil="true" NV="7701003"/>
        <eArrest.03>3003009</eArrest.03>
        <eArrest.12 xsi:nil="true" NV="7701003"/>
        <eArrest.19>2026-02-01T08:01:00+00:00</eArrest.19>
      </eArrest>
"""


def test_not_values_read_as_absent() -> None:
    (r,) = parse(document(NV_REPORT))
    # eRecord.01 is a not-value, so the report is known by its UUID.
    assert r.pcr_key == "U-1"
    assert (r.cad_record_id, r.incident_number, r.psap_call_at) == ("CAD-7", None, None)
    o = r.outcome
    # An arrest before EMS, but the only coded eArrest.03 says DNR: no resuscitation attempted.
    assert (o["ohca"], o["resuscitation_attempted"], o["ems_witnessed"]) == (True, False, False)
    assert o["resuscitation"] == ["not_attempted_dnr"]
    assert (o["etiology"], o["rosc"], o["emd_performed"]) == (None, None, None)
    # Without eTimes.01 nothing can be said about CPR before the call.
    assert (o["cpr_before_call"], o["seconds_call_to_cpr"]) == (None, None)
    assert r.outcome_at == datetime(2026, 2, 1, 8, 0, 30, tzinfo=UTC)


def patient(
    *,
    age: str = "",
    sex: str = "",
    races: tuple[str, ...] = (),
    arrest_end: str = "",
    ed: str = "",
    hospital: str = "",
) -> dict[str, object]:
    """The outcome of one report with the given ePatient / eArrest.18 / eOutcome elements."""
    body = (
        "<eRecord><eRecord.01>PCR-P</eRecord.01></eRecord>\n"
        f"<ePatient>{sex}{''.join(races)}{age}</ePatient>\n"
        f"<eArrest><eArrest.01>3001003</eArrest.01>{arrest_end}</eArrest>\n"
        f"<eOutcome>{ed}{hospital}</eOutcome>"
    )
    (r,) = parse(document(body))
    EmsOutcomeData.model_validate(r.outcome)
    return r.outcome


def age(value: str, unit: str) -> str:
    return f"<ePatient.AgeGroup>{value}{unit}</ePatient.AgeGroup>"


YEARS = "<ePatient.16>2516009</ePatient.16>"
MONTHS = "<ePatient.16>2516007</ePatient.16>"
DAYS = "<ePatient.16>2516001</ePatient.16>"
HOURS = "<ePatient.16>2516003</ePatient.16>"
NIL_AGE = '<ePatient.15 xsi:nil="true" NV="7701003"/>'
NIL_UNIT = '<ePatient.16 xsi:nil="true" NV="7701003"/>'


def test_age_in_years_stays_a_whole_number() -> None:
    a = patient(age=age("<ePatient.15>67</ePatient.15>", YEARS))["age_years"]
    assert a == 67 and isinstance(a, int)
    assert patient(age=age("<ePatient.15> 067 </ePatient.15>", YEARS))["age_years"] == 67


def test_age_in_months_days_hours_is_a_fraction_of_a_year() -> None:
    assert patient(age=age("<ePatient.15>6</ePatient.15>", MONTHS))["age_years"] == 0.5
    assert patient(age=age("<ePatient.15>18</ePatient.15>", MONTHS))["age_years"] == 1.5
    days = patient(age=age("<ePatient.15>73</ePatient.15>", DAYS))["age_years"]
    assert days == pytest.approx(0.2, abs=0.001)
    hours = patient(age=age("<ePatient.15>12</ePatient.15>", HOURS))["age_years"]
    assert hours == pytest.approx(12 / 24 / 365.25)


@pytest.mark.parametrize(
    "group",
    [
        "",  # no ePatient.AgeGroup at all
        age(NIL_AGE, YEARS),
        age("<ePatient.15>40</ePatient.15>", NIL_UNIT),
        age(NIL_AGE, NIL_UNIT),
        age('<ePatient.15 PN="8801029" xsi:nil="true"/>', YEARS),
        age("<ePatient.15>0</ePatient.15>", YEARS),  # Age is 1-120 (xsd_v3.5.1 ePatient)
        age("<ePatient.15>121</ePatient.15>", YEARS),
        age("<ePatient.15>-3</ePatient.15>", YEARS),
        age("<ePatient.15>4.5</ePatient.15>", YEARS),
        age("<ePatient.15>forty</ePatient.15>", YEARS),
        age(f"<ePatient.15>{'9' * 5000}</ePatient.15>", YEARS),
    ],
)
def test_a_missing_nil_or_invalid_age_is_none(group: str) -> None:
    assert patient(age=group)["age_years"] is None


def test_an_unknown_age_unit_is_refused_like_any_code() -> None:
    with pytest.raises(NemsisError) as caught:
        patient(age=age("<ePatient.15>4</ePatient.15>", "<ePatient.16>2516011</ePatient.16>"))
    assert caught.value.element == "ePatient.16"


def test_sex_from_epatient_25_else_the_deprecated_gender() -> None:
    assert patient(sex="<ePatient.25>9919001</ePatient.25>")["sex"] == "female"
    assert patient(sex="<ePatient.25>9919003</ePatient.25>")["sex"] == "male"
    assert patient(sex="<ePatient.25>9919005</ePatient.25>")["sex"] == "unknown"
    assert patient(sex="<ePatient.13>9906003</ePatient.13>")["sex"] == "male"
    both = "<ePatient.13>9906003</ePatient.13><ePatient.25>9919001</ePatient.25>"
    assert patient(sex=both)["sex"] == "female"
    nil_sex = '<ePatient.13>9906001</ePatient.13><ePatient.25 xsi:nil="true" NV="7701003"/>'
    assert patient(sex=nil_sex)["sex"] == "female"


@pytest.mark.parametrize(
    "sex",
    [
        "",
        '<ePatient.25 xsi:nil="true" NV="7701003"/>',
        '<ePatient.25 xsi:nil="true" PN="8801019"/>',
        '<ePatient.13 xsi:nil="true" NV="7701003"/><ePatient.25 xsi:nil="true" NV="7701001"/>',
    ],
)
def test_no_sex_recorded_is_none(sex: str) -> None:
    assert patient(sex=sex)["sex"] is None


def test_an_unknown_sex_code_is_refused() -> None:
    with pytest.raises(NemsisError) as caught:
        patient(sex="<ePatient.25>9906001</ePatient.25>")  # a Gender code in the Sex element
    assert caught.value.element == "ePatient.25"


def race(code: str) -> str:
    return f"<ePatient.14>{code}</ePatient.14>"


def test_one_race_is_its_word() -> None:
    assert patient(races=(race("2514011"),))["race"] == "white"
    assert patient(races=(race("2514013"),))["race"] == "middle_eastern_or_north_african"


def test_several_races_are_sorted_and_joined() -> None:
    two = patient(races=(race("2514011"), race("2514005")))["race"]
    assert two == "black_or_african_american+white"
    # Order in the document and repeats do not change the value.
    again = patient(races=(race("2514005"), race("2514011"), race("2514005")))["race"]
    assert again == two


def test_a_race_combination_over_64_characters_is_multiple() -> None:
    many = patient(races=(race("2514009"), race("2514001"), race("2514011")))["race"]
    assert many == "multiple"
    assert len("american_indian_or_alaska_native+native_hawaiian_or_other_pacific_islander") > 64


@pytest.mark.parametrize(
    "races",
    [
        (),
        ('<ePatient.14 xsi:nil="true" NV="7701003"/>',),
        ('<ePatient.14 xsi:nil="true" PN="8801019"/>',),
    ],
)
def test_no_race_recorded_is_none(races: tuple[str, ...]) -> None:
    assert patient(races=races)["race"] is None


def test_a_race_not_in_the_code_list_is_refused() -> None:
    with pytest.raises(NemsisError) as caught:
        patient(races=(race("2514011"), race("2514015")))
    assert caught.value.element == "ePatient.14"


ED = "<eOutcome.01>{}</eOutcome.01>"
HOSPITAL = "<eOutcome.02>{}</eOutcome.02>"
NIL_ED = '<eOutcome.01 xsi:nil="true" NV="7701001"/>'
NIL_HOSPITAL = '<eOutcome.02 xsi:nil="true" NV="7701001"/>'
ROSC_IN_ED = "<eArrest.18>3018009</eArrest.18>"
EXPIRED_IN_ED = "<eArrest.18>3018001</eArrest.18>"


def test_survived_when_the_hospital_discharges_alive() -> None:
    # Admitted from the ED (09), then discharged home (01) or to rehabilitation (62).
    assert patient(ed=ED.format("09"), hospital=HOSPITAL.format("01"))["survived"] is True
    assert patient(ed=ED.format("09"), hospital=HOSPITAL.format("62"))["survived"] is True
    # Discharged from the ED itself, the hospital disposition not applicable.
    assert patient(ed=ED.format("01"), hospital=NIL_HOSPITAL)["survived"] is True
    assert patient(arrest_end=ROSC_IN_ED, hospital=HOSPITAL.format("50"))["survived"] is True


def test_died_when_the_ed_or_hospital_says_deceased() -> None:
    assert patient(ed=ED.format("09"), hospital=HOSPITAL.format("20"))["survived"] is False
    assert patient(ed=ED.format("20"), hospital=NIL_HOSPITAL)["survived"] is False
    # A recorded death wins over a contradicting discharge.
    assert patient(ed=ED.format("01"), hospital=HOSPITAL.format("20"))["survived"] is False
    assert patient(arrest_end=EXPIRED_IN_ED, ed=ED.format("01"))["survived"] is False


@pytest.mark.parametrize(
    ("arrest_end", "ed", "hospital", "survived"),
    [
        ("", "", "", None),
        (ROSC_IN_ED, "", "", None),
        (ROSC_IN_ED, NIL_ED, NIL_HOSPITAL, None),
        (EXPIRED_IN_ED, "", "", False),
        (EXPIRED_IN_ED, NIL_ED, NIL_HOSPITAL, False),
        # Admitted, still a patient, or left against advice: the outcome is not known.
        (ROSC_IN_ED, ED.format("09"), NIL_HOSPITAL, None),
        (ROSC_IN_ED, ED.format("09"), HOSPITAL.format("30"), None),
        (ROSC_IN_ED, ED.format("07"), "", None),
        # Moved to another acute hospital: survival to discharge is decided there.
        (ROSC_IN_ED, ED.format("09"), HOSPITAL.format("02"), None),
        (ROSC_IN_ED, ED.format("66"), "", None),
    ],
)
def test_without_a_hospital_outcome_survived_is_as_before(
    arrest_end: str, ed: str, hospital: str, survived: bool | None
) -> None:
    assert patient(arrest_end=arrest_end, ed=ed, hospital=hospital)["survived"] is survived


def test_admitted_is_an_ed_code_only() -> None:
    with pytest.raises(NemsisError) as caught:
        patient(hospital=HOSPITAL.format("09"))
    assert caught.value.element == "eOutcome.02"


def test_a_report_without_earrest_is_not_an_arrest() -> None:
    (r,) = parse(
        document(
            "<eRecord><eRecord.01>PCR-9</eRecord.01></eRecord>"
            "<eTimes><eTimes.01>2026-02-01T08:00:00-06:00</eTimes.01></eTimes>"
        )
    )
    o = r.outcome
    assert (o["ohca"], o["resuscitation_attempted"], o["ems_witnessed"]) == (False, False, False)
    assert o["cardiac_arrest"] is None
    assert r.outcome_at == datetime(2026, 2, 1, 8, tzinfo=tz(-6))


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(NemsisError) as caught:
        parse(document("<eRecord><eRecord.01>PCR-1</eRecord></eRecord>"))
    assert caught.value.line == 7
    assert "line 7" in str(caught.value)
    assert "eRecord.01" in str(caught.value)  # libxml2 names the unclosed element


def test_an_unknown_code_names_its_element_and_line() -> None:
    body = "<eRecord><eRecord.01>PCR-1</eRecord.01></eRecord>\n" + (
        "<eArrest>\n<eArrest.01>3001004</eArrest.01>\n</eArrest>"
    )
    with pytest.raises(NemsisError) as caught:
        parse(document(body))
    # Lines 1-6 are the envelope; the body starts on line 7, so eArrest.01 is on line 9.
    assert (caught.value.element, caught.value.line) == ("eArrest.01", 9)
    assert "'3001004' is not a code" in str(caught.value)


def test_a_time_without_offset_is_refused() -> None:
    body = "<eTimes>\n<eTimes.01>2026-02-01T08:00:00</eTimes.01></eTimes>"
    with pytest.raises(NemsisError) as caught:
        parse(document(body))
    assert (caught.value.element, caught.value.line) == ("eTimes.01", 8)


def test_wrong_namespace_and_wrong_root_are_refused() -> None:
    with pytest.raises(NemsisError, match="expected EMSDataSet in namespace"):
        parse(document("<eRecord/>", namespace="http://www.nemsis.org/v2"))
    with pytest.raises(NemsisError, match=r"root element is \{http://www.nemsis.org\}DEMDataSet"):
        parse(b'<DEMDataSet xmlns="http://www.nemsis.org"/>')


def test_entity_expansion_and_external_entities_are_refused() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE EMSDataSet [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<EMSDataSet xmlns="http://www.nemsis.org"><Header><PatientCareReport UUID="x">
<eRecord><eRecord.01>&lol3;</eRecord.01></eRecord></PatientCareReport></Header></EMSDataSet>"""
    with pytest.raises(NemsisError, match="DTD"):
        parse(laughs)
    external = b"""<?xml version="1.0"?>
<!DOCTYPE EMSDataSet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<EMSDataSet xmlns="http://www.nemsis.org"><Header><PatientCareReport UUID="x">
<eRecord><eRecord.01>&secret;</eRecord.01></eRecord></PatientCareReport></Header></EMSDataSet>"""
    with pytest.raises(NemsisError) as caught:
        parse(external)
    assert "passwd" not in str(caught.value)


def test_size_limit_empty_body_and_no_reports() -> None:
    with pytest.raises(NemsisError, match="over the 100-byte limit"):
        parse(document(NV_REPORT), max_bytes=100)
    with pytest.raises(NemsisError, match="empty document"):
        parse(b"  ")
    with pytest.raises(NemsisError, match="no Header/PatientCareReport"):
        parse(b'<EMSDataSet xmlns="http://www.nemsis.org"><Header/></EMSDataSet>')


def test_a_report_twice_in_one_document_is_refused() -> None:
    one = "<PatientCareReport UUID='u'><eRecord><eRecord.01>P-1</eRecord.01></eRecord>"
    twice = (
        '<EMSDataSet xmlns="http://www.nemsis.org"><Header>\n'
        f"{one}</PatientCareReport>\n{one}</PatientCareReport>\n</Header></EMSDataSet>"
    ).encode()
    with pytest.raises(NemsisError, match=r"'P-1' appears twice \(first at line 2\)"):
        parse(twice)


# -- matching (DESIGN.md §8) -------------------------------------------------------------------

PSAP = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def test_cad_record_id_wins_over_incident_number_and_time() -> None:
    m = match("C-1", "C-2", PSAP, {"C-1", "C-2"}, [("C-3", PSAP)])
    assert (m.call_id, m.matched_by) == ("C-1", "eDispatch.06")


def test_incident_number_when_the_cad_record_id_is_no_call() -> None:
    m = match("unit-77", "C-2", PSAP, {"C-2"}, [("C-3", PSAP)])
    assert (m.call_id, m.matched_by) == ("C-2", "eResponse.03")


def test_the_only_call_within_five_minutes() -> None:
    near = [("C-3", PSAP + timedelta(minutes=5)), ("C-4", PSAP - timedelta(minutes=5, seconds=1))]
    m = match(None, None, PSAP, set(), near)
    assert (m.call_id, m.matched_by, m.candidates) == ("C-3", "eTimes.01", ("C-3",))


def test_two_calls_within_five_minutes_or_none_leave_it_unmatched() -> None:
    near = [("C-3", PSAP + timedelta(minutes=2)), ("C-4", PSAP - timedelta(minutes=4))]
    m = match(None, None, PSAP, set(), near)
    assert (m.call_id, m.matched_by, m.candidates) == (None, None, ("C-3", "C-4"))
    assert match(None, None, PSAP, set(), []).call_id is None
    assert match("C-9", None, None, set(), near).call_id is None


def test_outcome_event_id_follows_the_content() -> None:
    first = outcome_event_id("P-1", "C-1", {"ohca": True})
    assert first == outcome_event_id("P-1", "C-1", {"ohca": True})
    assert first != outcome_event_id("P-1", "C-1", {"ohca": False})
    assert first != outcome_event_id("P-1", "C-2", {"ohca": True})
    assert first.startswith("nemsis-") and len(first) <= 128
