"""The NEMSIS-aligned linkage extract: the CAD side of each call as a NEMSIS v3.5.1 EMSDataSet.

A state EMS office or a CARES coordinator links dispatch records to patient care reports by the
CAD record id and the PSAP call time. This writes, for each call of a period that dispatched a
unit, one `PatientCareReport` carrying what the CAD knows (QI corrections applied):

| NEMSIS | from the call |
| --- | --- |
| eTimes.01 PSAP call | T0 |
| eTimes.02 dispatch notified | the transfer to the dispatching agency, else the answer |
| eTimes.03 unit notified | the first `unit.dispatched` |
| eTimes.06 unit arrived on scene | the first `unit.on_scene` (else "Not Recorded") |
| eDispatch.01 dispatch reason | the MPDS card of the nature code (`09-E-01` -> 2301019) |
| eDispatch.02 EMD performed | 2302003 (with pre-arrival instructions) when T-CPR started, |
| | 2302005 (without) when only the script's questions were asked, else "Not Recorded" |
| eDispatch.03 EMD determinant | the nature code as an MPDS determinant (`09-E-01` -> `9E1`) |
| eDispatch.06 CAD record id, eResponse.03 incident number | the call id |
| eResponse.13/.14 unit | the first dispatched unit |

Every other element the schema requires is filled with the NEMSIS not-value "Not Recorded"
(`xsi:nil="true" NV="7701003"`), except the few the schema requires with a real value and no
not-value; those carry the fixed values of `PLACEHOLDERS`, which the receiver must read as "the
CAD does not know". Calls without T0 or without a dispatched unit have no EMS response to link
and are left out (the caller is told how many).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from contract.kinds import Kind
from service.qi import nemsis_codes as codes
from service.triage.call_state import CallState

N: Final = f"{{{codes.NAMESPACE}}}"
XSI_NIL: Final = f"{{{codes.XSI}}}nil"
_PCR_NAMESPACE: Final = uuid.UUID("5b0c6a53-7d3e-4f0e-9f1c-6d1f1e0a9c11")
MPDS: Final = re.compile(r"^(\d{1,2})-?([A-EO\u03a9])-?(\d{1,2})([A-Z]?)$", re.IGNORECASE)

# Required by the schema with a value and no not-value; the CAD cannot know them.
PLACEHOLDERS: Final = {
    "eResponse.05": "2205001",  # Emergency Response (Primary Response Area): a 911 call
    "eResponse.07": "2207015",  # Ground Transport (ALS Equipped)
    "eResponse.23": "2223001",  # Emergent (Immediate Response)
    "eDisposition.27": "4227001",  # Patient Contact Made
}
UNKNOWN_UNIT: Final = "UNKNOWN"

# The EMS-side sections after eTimes, as the schema orders their required content: an element
# name alone is a "Not Recorded" leaf, a (group, children) pair a required group.
Tree = tuple["str | tuple[str, Tree]", ...]
_AFTER_TIMES: Final[Tree] = (
    ("ePatient", ("ePatient.07", "ePatient.08", "ePatient.09", "ePatient.14",
                  ("ePatient.AgeGroup", ("ePatient.15", "ePatient.16")))),
    ("ePayment", ("ePayment.01", "ePayment.50")),
    ("eScene", ("eScene.01", "eScene.06", "eScene.07", "eScene.08", "eScene.09", "eScene.18",
                "eScene.19", "eScene.21")),
    ("eSituation", ("eSituation.01", "eSituation.02", "eSituation.07", "eSituation.08",
                    "eSituation.09", "eSituation.10", "eSituation.11", "eSituation.12",
                    "eSituation.13", "eSituation.18", "eSituation.20")),
    ("eInjury", ("eInjury.01", "eInjury.03", "eInjury.04")),
    ("eArrest", ("eArrest.01", "eArrest.02", "eArrest.03", "eArrest.04", "eArrest.07",
                 "eArrest.09", "eArrest.11", "eArrest.12", "eArrest.14", "eArrest.16",
                 "eArrest.17", "eArrest.18", "eArrest.20", "eArrest.21", "eArrest.22")),
    ("eHistory", ("eHistory.01", "eHistory.17")),
    ("eVitals", (("eVitals.VitalGroup", (
        "eVitals.01", "eVitals.02",
        ("eVitals.CardiacRhythmGroup", ("eVitals.03", "eVitals.04", "eVitals.05")),
        ("eVitals.BloodPressureGroup", ("eVitals.06",)),
        ("eVitals.HeartRateGroup", ("eVitals.10",)),
        "eVitals.12", "eVitals.14", "eVitals.16", "eVitals.18",
        ("eVitals.GlasgowScoreGroup", ("eVitals.19", "eVitals.20", "eVitals.21",
                                       "eVitals.22")),
        "eVitals.26",
        ("eVitals.PainScaleGroup", ("eVitals.27",)),
        ("eVitals.StrokeScaleGroup", ("eVitals.29", "eVitals.30")),
        "eVitals.31",
    )),)),
    ("eProtocols", (("eProtocols.ProtocolGroup", ("eProtocols.01",)),)),
    ("eMedications", (("eMedications.MedicationGroup", (
        "eMedications.01", "eMedications.02", "eMedications.03", "eMedications.04",
        ("eMedications.DosageGroup", ("eMedications.05", "eMedications.06")),
        "eMedications.07", "eMedications.08", "eMedications.10",
    )),)),
    ("eProcedures", (("eProcedures.ProcedureGroup", (
        "eProcedures.01", "eProcedures.02", "eProcedures.03", "eProcedures.05",
        "eProcedures.06", "eProcedures.07", "eProcedures.08", "eProcedures.10",
    )),)),
)  # fmt: skip
_DISPOSITION_BEFORE: Final[Tree] = (
    ("eDisposition.DestinationGroup", ("eDisposition.05", "eDisposition.06", "eDisposition.07")),
)
_DISPOSITION_AFTER: Final[Tree] = (
    "eDisposition.16", "eDisposition.17", "eDisposition.18", "eDisposition.19",
    "eDisposition.20", "eDisposition.21", "eDisposition.22", "eDisposition.23",
    ("eDisposition.HospitalTeamActivationGroup", ("eDisposition.24", "eDisposition.25")),
    "eDisposition.32",
)  # fmt: skip
_OUTCOME: Final[Tree] = (
    "eOutcome.01", "eOutcome.02",
    ("eOutcome.EmergencyDepartmentProceduresGroup", ("eOutcome.09", "eOutcome.19")),
    "eOutcome.10", "eOutcome.11",
    ("eOutcome.HospitalProceduresGroup", ("eOutcome.12", "eOutcome.20")),
    "eOutcome.13", "eOutcome.16", "eOutcome.18",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExtractAgency:
    """Who the extract is from, in NEMSIS terms (the Header's DemographicGroup)."""

    state_id: str  # dAgency.01, 1-50 characters
    number: str  # dAgency.02 and eResponse.01, 1-15 characters
    state: str  # dAgency.04, the two-digit ANSI (FIPS) state code
    software_version: str = "0"


@dataclass(frozen=True, slots=True)
class Extract:
    document: bytes
    calls: int  # PatientCareReports written
    left_out: int  # calls without T0 or without a dispatched unit


def build(agency: ExtractAgency, calls: Iterable[CallState]) -> Extract:
    """One EMSDataSet document for the calls, in T0 order."""
    linkable = []
    left_out = 0
    for call in calls:
        if call.t0 is None or call.corrected(Kind.UNIT_DISPATCHED) is None:
            left_out += 1
        else:
            linkable.append(call)
    linkable.sort(key=lambda c: (c.t0, c.call_id))
    root = etree.Element(N + "EMSDataSet", nsmap={None: codes.NAMESPACE, "xsi": codes.XSI})
    header = _sub(root, "Header")
    demographics = _sub(header, "DemographicGroup")
    _sub(demographics, "dAgency.01", agency.state_id)
    _sub(demographics, "dAgency.02", agency.number)
    _sub(demographics, "dAgency.04", agency.state)
    for call in linkable:
        header.append(report(agency, call))
    if not linkable:
        # The schema wants at least one report; an empty period is an empty header instead.
        header.append(etree.Comment(" no call of the period dispatched a unit "))
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Extract(document, len(linkable), left_out)


def report(agency: ExtractAgency, call: CallState) -> etree._Element:
    t0, dispatched = call.t0, call.corrected(Kind.UNIT_DISPATCHED)
    assert t0 is not None and dispatched is not None
    pcr = etree.Element(N + "PatientCareReport", UUID=str(pcr_uuid(call.agency, call.call_id)))
    record = _sub(pcr, "eRecord")
    number = f"CAD-{call.call_id}"
    _sub(record, "eRecord.01", number if len(number) <= 50 else pcr.get("UUID"))
    software = _sub(record, "eRecord.SoftwareApplicationGroup")
    _sub(software, "eRecord.02", "tcpr-assist")
    _sub(software, "eRecord.03", "tcpr-assist CAD linkage extract")
    _sub(software, "eRecord.04", agency.software_version[:50])

    cad_id = call.call_id if 3 <= len(call.call_id) <= 50 else None
    unit = (call.units[0] if call.units else UNKNOWN_UNIT)[:50]
    response = _sub(pcr, "eResponse")
    _sub(_sub(response, "eResponse.AgencyGroup"), "eResponse.01", agency.number)
    _value_or_nv(response, "eResponse.03", cad_id)
    _nv(response, "eResponse.04")
    _sub(_sub(response, "eResponse.ServiceGroup"), "eResponse.05", PLACEHOLDERS["eResponse.05"])
    _sub(response, "eResponse.07", PLACEHOLDERS["eResponse.07"])
    for name in ("eResponse.08", "eResponse.09", "eResponse.10", "eResponse.11", "eResponse.12"):
        _nv(response, name)
    _sub(response, "eResponse.13", unit)
    _sub(response, "eResponse.14", unit)
    _sub(response, "eResponse.23", PLACEHOLDERS["eResponse.23"])
    _nv(response, "eResponse.24")

    dispatch = _sub(pcr, "eDispatch")
    _sub(dispatch, "eDispatch.01", dispatch_reason(call))
    _value_or_nv(dispatch, "eDispatch.02", emd_performed(call))
    determinant = emd_determinant(call.nature_code)
    if determinant is not None:
        _sub(dispatch, "eDispatch.03", determinant)
    if cad_id is not None:
        _sub(dispatch, "eDispatch.06", cad_id)

    times = _sub(pcr, "eTimes")
    _sub(times, "eTimes.01", _time(t0))
    notified = call.corrected(Kind.CALL_TRANSFERRED) or call.corrected(Kind.CALL_ANSWERED)
    if notified is not None:
        _sub(times, "eTimes.02", _time(notified))
    _sub(times, "eTimes.03", _time(dispatched))
    on_scene = call.corrected(Kind.UNIT_ON_SCENE)
    _nv(times, "eTimes.05")
    _value_or_nv(times, "eTimes.06", _time(on_scene) if on_scene else None)
    for name in ("eTimes.07", "eTimes.09", "eTimes.11", "eTimes.12"):
        _nv(times, name)
    # Back in service is required with a real time; the latest CAD time of the call stands in.
    last = max(t for t in (dispatched, on_scene, call.corrected(Kind.CALL_ENDED)) if t is not None)
    _sub(times, "eTimes.13", _time(last))

    _fill(pcr, _AFTER_TIMES)
    disposition = _sub(pcr, "eDisposition")
    _fill(disposition, _DISPOSITION_BEFORE)
    incident = _sub(disposition, "eDisposition.IncidentDispositionGroup")
    _sub(incident, "eDisposition.27", PLACEHOLDERS["eDisposition.27"])
    for name in ("eDisposition.28", "eDisposition.29", "eDisposition.30"):
        _nv(incident, name)
    _fill(disposition, _DISPOSITION_AFTER)
    _fill(_sub(pcr, "eOutcome"), _OUTCOME)
    return pcr


def pcr_uuid(agency: str, call_id: str) -> uuid.UUID:
    """The same call always gets the same report UUID, so a re-run extract replaces, not adds."""
    return uuid.uuid5(_PCR_NAMESPACE, f"{agency}\n{call_id}")


def dispatch_reason(call: CallState) -> str:
    """eDispatch.01 from the MPDS card of the nature code; a recognised arrest without a usable
    code is a cardiac arrest dispatch; anything else "No Other Appropriate Choice"."""
    match = MPDS.match((call.nature_code or "").strip())
    if match is not None and int(match.group(1)) in codes.DISPATCH_REASON_BY_MPDS_CARD:
        return codes.DISPATCH_REASON_BY_MPDS_CARD[int(match.group(1))]
    return codes.DISPATCH_CARDIAC_ARREST if call.recognized else codes.DISPATCH_NO_OTHER_CHOICE


def emd_performed(call: CallState) -> str | None:
    if call.corrected(Kind.TCPR_STARTED) is not None:
        return codes.EMD_WITH_PAI
    if call.conscious is not None or call.breathing is not None:
        return codes.EMD_WITHOUT_PAI
    return None


def emd_determinant(nature_code: str | None) -> str | None:
    """`09-E-01` -> `9E1` (card, level, number, suffix), the form NEMSIS examples use."""
    match = MPDS.match((nature_code or "").strip())
    if match is None:
        return None
    card, level, number, suffix = match.groups()
    return f"{int(card)}{level.upper()}{int(number)}{suffix.upper()}"


def _time(t: datetime) -> str:
    return t.isoformat()


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, N + name)
    if text is not None:
        element.text = text
    return element


def _nv(parent: etree._Element, name: str) -> None:
    element = _sub(parent, name)
    element.set(XSI_NIL, "true")
    element.set("NV", codes.NOT_RECORDED)


def _value_or_nv(parent: etree._Element, name: str, value: str | None) -> None:
    if value is None:
        _nv(parent, name)
    else:
        _sub(parent, name, value)


def _fill(parent: etree._Element, tree: Tree) -> None:
    for node in tree:
        if isinstance(node, str):
            _nv(parent, node)
        else:
            name, children = node
            _fill(_sub(parent, name), children)
