"""NEMSIS v3.5.1 code lists this service reads or writes, as readable words.

Each table is a verbatim subset of the NEMSIS data dictionary (`EMSDataSet_ElementEnumerations.txt`:
element number, code, description); the words are ours, chosen so an `ems.outcome` reads without
the dictionary at hand. A test checks every code here against the dictionary file.
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "http://www.nemsis.org"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

# "Not values" (the NV attribute on an element that carries no value) and pertinent negatives.
NOT_APPLICABLE: Final = "7701001"
NOT_RECORDED: Final = "7701003"
NOT_REPORTING: Final = "7701005"
NOT_VALUES: Final = {
    NOT_APPLICABLE: "not_applicable",
    NOT_RECORDED: "not_recorded",
    NOT_REPORTING: "not_reporting",
}

# eArrest.01 Cardiac Arrest.
ARREST_NO: Final = "3001001"
ARREST_BEFORE_EMS: Final = "3001003"
ARREST_AFTER_EMS: Final = "3001005"
CARDIAC_ARREST: Final = {
    ARREST_NO: "no",
    ARREST_BEFORE_EMS: "before_ems_arrival",
    ARREST_AFTER_EMS: "after_ems_arrival",
}

# eArrest.02 Cardiac Arrest Etiology.
ETIOLOGY: Final = {
    "3002001": "cardiac",
    "3002003": "drowning",
    "3002005": "overdose",
    "3002007": "electrocution",
    "3002009": "exsanguination",
    "3002011": "other",
    "3002013": "respiratory",
    "3002015": "trauma",
}

# eArrest.03 Resuscitation Attempted By EMS: the first three are attempts (DESIGN.md §8).
RESUSCITATION: Final = {
    "3003001": "attempted_defibrillation",
    "3003003": "attempted_ventilation",
    "3003005": "initiated_chest_compressions",
    "3003007": "not_attempted_futile",
    "3003009": "not_attempted_dnr",
    "3003011": "not_attempted_signs_of_circulation",
}
RESUSCITATION_ATTEMPTS: Final = frozenset({"3003001", "3003003", "3003005"})

# eArrest.04 Arrest Witnessed By.
WITNESSED_BY: Final = {
    "3004001": "not_witnessed",
    "3004003": "family_member",
    "3004005": "healthcare_provider",
    "3004007": "bystander",
}

# eArrest.11 First Monitored Arrest Rhythm of the Patient.
FIRST_RHYTHM: Final = {
    "3011001": "asystole",
    "3011005": "pea",
    "3011007": "unknown_aed_non_shockable",
    "3011009": "unknown_aed_shockable",
    "3011011": "ventricular_fibrillation",
    "3011013": "pulseless_ventricular_tachycardia",
}

# eArrest.12 Any Return of Spontaneous Circulation: every "Yes, ..." is ROSC.
ROSC: Final = {
    "3012001": False,
    "3012003": True,
    "3012005": True,
    "3012007": True,
}

# eArrest.18 End of EMS Cardiac Arrest Event; the two "Expired" ones mean the patient died.
ARREST_END: Final = {
    "3018001": "expired_in_ed",
    "3018003": "expired_in_field",
    "3018005": "ongoing_resuscitation_in_ed",
    "3018007": "rosc_in_field",
    "3018009": "rosc_in_ed",
    "3018011": "ongoing_resuscitation_by_other_ems",
}
EXPIRED: Final = frozenset({"3018001", "3018003"})

# eArrest.20 Who First Initiated CPR.
CPR_INITIATED_BY: Final = {
    "3020001": "bystander",
    "3020003": "family_member",
    "3020005": "healthcare_provider",
    "3020007": "first_responder_ems",
    "3020009": "law_enforcement",
    "3020011": "fire_non_ems",
    "3020013": "transport_ems",
}

# eDispatch.02 EMD Performed.
EMD_NO: Final = "2302001"
EMD_WITH_PAI: Final = "2302003"
EMD_WITHOUT_PAI: Final = "2302005"
EMD_UNKNOWN_PAI: Final = "2302007"
EMD_PERFORMED: Final = {
    EMD_NO: "no",
    EMD_WITH_PAI: "with_pre_arrival_instructions",
    EMD_WITHOUT_PAI: "without_pre_arrival_instructions",
    EMD_UNKNOWN_PAI: "unknown_if_pre_arrival_instructions",
}
PRE_ARRIVAL_INSTRUCTIONS: Final = {EMD_NO: False, EMD_WITH_PAI: True, EMD_WITHOUT_PAI: False}

# eDispatch.01 Dispatch Reason for the MPDS protocol (card) numbers that name one directly.
DISPATCH_CARDIAC_ARREST: Final = "2301019"
DISPATCH_NO_OTHER_CHOICE: Final = "2301051"
DISPATCH_REASON_BY_MPDS_CARD: Final = {
    1: "2301001",  # Abdominal Pain/Problems
    2: "2301003",  # Allergic Reaction/Stings
    3: "2301005",  # Animal Bite
    4: "2301007",  # Assault
    5: "2301011",  # Back Pain (Non-Traumatic)
    6: "2301013",  # Breathing Problem
    7: "2301015",  # Burns/Explosion
    8: "2301017",  # Carbon Monoxide/Hazmat/Inhalation/CBRN
    9: DISPATCH_CARDIAC_ARREST,  # Cardiac Arrest/Death
    10: "2301021",  # Chest Pain (Non-Traumatic)
    11: "2301023",  # Choking
    12: "2301025",  # Convulsions/Seizure
    13: "2301027",  # Diabetic Problem
    14: "2301081",  # Drowning/Diving/SCUBA Accident
    15: "2301029",  # Electrocution/Lightning
    16: "2301031",  # Eye Problem/Injury
    17: "2301033",  # Falls
    18: "2301037",  # Headache
    19: "2301041",  # Heart Problems/AICD
    20: "2301043",  # Heat/Cold Exposure
    21: "2301045",  # Hemorrhage/Laceration
    22: "2301047",  # Industrial Accident/Inaccessible Incident/Other Entrapments
    23: "2301053",  # Overdose/Poisoning/Ingestion
    24: "2301057",  # Pregnancy/Childbirth/Miscarriage
    25: "2301059",  # Psychiatric Problem/Abnormal Behavior/Suicide Attempt
    26: "2301061",  # Sick Person
    27: "2301063",  # Stab/Gunshot Wound/Penetrating Trauma
    28: "2301067",  # Stroke/CVA
    29: "2301069",  # Traffic/Transportation Incident
    30: "2301073",  # Traumatic Injury
    31: "2301077",  # Unconscious/Fainting/Near-Fainting
    32: "2301079",  # Unknown Problem/Person Down
    33: "2301071",  # Transfer/Interfacility/Palliative Care
}

# ePatient.13 Gender (DEPRECATED in 3.5.1, the 3.5.0 element): read when ePatient.25 has no value.
GENDER: Final = {
    "9906001": "female",
    "9906003": "male",
    "9906005": "unknown",  # Unknown (Unable to Determine)
    "9906007": "transgender_male",  # Female-to-Male, Transgender Male
    "9906009": "transgender_female",  # Male-to-Female, Transgender Female
    "9906011": "other",  # Other, neither exclusively male or female
}

# ePatient.25 Sex (new in 3.5.1).
SEX: Final = {
    "9919001": "female",
    "9919003": "male",
    "9919005": "unknown",
}

# ePatient.14 Race (repeats: a report's races are joined, sorted, with "+").
RACE: Final = {
    "2514001": "american_indian_or_alaska_native",
    "2514003": "asian",
    "2514005": "black_or_african_american",
    "2514007": "hispanic_or_latino",
    "2514009": "native_hawaiian_or_other_pacific_islander",
    "2514011": "white",
    "2514013": "middle_eastern_or_north_african",
}
MULTIPLE_RACES: Final = "multiple"  # when the joined words would be over RACE_MAX_CHARS
RACE_MAX_CHARS: Final = 64

# ePatient.16 Age Units, as years per unit (ePatient.15 Age is a whole number 1-120 of them).
AGE_UNIT_YEARS: Final = "2516009"
AGE_UNITS: Final = {
    "2516001": 1 / 365.25,  # Days
    "2516003": 1 / (365.25 * 24),  # Hours
    "2516005": 1 / (365.25 * 24 * 60),  # Minutes
    "2516007": 1 / 12,  # Months
    AGE_UNIT_YEARS: 1.0,  # Years
}
AGE_MIN: Final = 1
AGE_MAX: Final = 120

# eOutcome.01 Emergency Department Disposition (UB-04 patient discharge status): whether the code
# says the patient left alive (a "Discharged..." code), died (20), or neither (07 left against
# medical advice or discontinued care, 09 admitted to this hospital, 30 still a patient, and 02 / 66
# moved to another acute hospital, where survival to discharge is decided).
ED_DISPOSITION_SURVIVED: Final[dict[str, bool | None]] = {
    "01": True,  # Discharged to home or self care (routine discharge)
    # Moved to another acute hospital: alive today, but survival to discharge is unknown here.
    "02": None,  # Discharged/transferred to another short term general hospital for inpatient care
    "03": True,  # Discharged/transferred to a skilled nursing facility (SNF)
    "04": True,  # Discharged/transferred to an intermediate care facility (ICF)
    "05": True,  # Discharged/transferred to another type of institution not defined elsewhere
    "06": True,  # Discharged/transferred to home under care of organized home health service
    "07": None,  # Left against medical advice or discontinued care
    "09": None,  # Admitted as an inpatient to this hospital
    "20": False,  # Deceased/Expired (or did not recover - Religious Non Medical Health Care)
    "21": True,  # Discharged/transferred to court/law enforcement
    "30": None,  # Still a patient or expected to return for outpatient services
    "43": True,  # Discharged/transferred to a Federal Health Care Facility
    "50": True,  # Discharged/transferred to Hospice - home
    "51": True,  # Discharged/transferred to Hospice - medical facility
    "61": True,  # Discharged/transferred within this institution to a ... swing bed
    "62": True,  # Discharged/transferred to a inpatient rehabilitation facility
    "63": True,  # Discharged/transferred to long term care hospitals
    "64": True,  # Discharged/transferred to a nursing facility certified under Medicaid ...
    "65": True,  # Discharged/transferred to a psychiatric hospital or ... distinct part unit
    "66": None,  # Discharged/transferred to a Critical Access Hospital (CAH)
    "70": True,  # Discharged/transferred to another type of health care institution ...
}

# eOutcome.02 Hospital Disposition: the same list without 09 (admitted), which is ED-only.
HOSPITAL_DISPOSITION_SURVIVED: Final[dict[str, bool | None]] = {
    code: survived for code, survived in ED_DISPOSITION_SURVIVED.items() if code != "09"
}

# Every (element, code) pair above, for the dictionary check.
CODE_TABLES: Final[dict[str, tuple[str, ...]]] = {
    "eArrest.01": tuple(CARDIAC_ARREST),
    "eArrest.02": tuple(ETIOLOGY),
    "eArrest.03": tuple(RESUSCITATION),
    "eArrest.04": tuple(WITNESSED_BY),
    "eArrest.11": tuple(FIRST_RHYTHM),
    "eArrest.12": tuple(ROSC),
    "eArrest.18": tuple(ARREST_END),
    "eArrest.20": tuple(CPR_INITIATED_BY),
    "eDispatch.02": tuple(EMD_PERFORMED),
    "eDispatch.01": (*DISPATCH_REASON_BY_MPDS_CARD.values(), DISPATCH_NO_OTHER_CHOICE),
    "ePatient.13": tuple(GENDER),
    "ePatient.14": tuple(RACE),
    "ePatient.16": tuple(AGE_UNITS),
    "ePatient.25": tuple(SEX),
    "eOutcome.01": tuple(ED_DISPOSITION_SURVIVED),
    "eOutcome.02": tuple(HOSPITAL_DISPOSITION_SURVIVED),
    "eCustomConfiguration.07": tuple(NOT_VALUES),
}
