"""NEMSIS v3.5 EMSDataSet documents in, EMS patient care reports out (pure: bytes -> values).

Each `PatientCareReport` becomes a `CareReport`: its linkage keys (DESIGN.md §8: `eDispatch.06`
the CAD record id, `eResponse.03` the incident number, `eTimes.01` the PSAP call time) and the
`ems.outcome` it implies: `ohca` when `eArrest.01` is 3001003 or 3001005, `ems_witnessed` when it
is 3001005 (an arrest after EMS arrival is outside the T-CPR population), and
`resuscitation_attempted` when any `eArrest.03` is 3003001/3003003/3003005. `etiology` is
`eArrest.02` and `rosc` any "Yes" in `eArrest.12`. `survived` is False when `eArrest.18` says
expired (3018001/3018003) or `eOutcome.01` (Emergency Department Disposition) or `eOutcome.02`
(Hospital Disposition) is 20 Deceased/Expired; else True when either is a "Discharged/transferred"
code; else None (no outcome data, or 07/09/30, which do not say).

For the equity breakdowns: `age_years` from `ePatient.15` Age in the `ePatient.16` Age Units
(years stay whole numbers, 6 months is 0.5; None when either is missing or the age is not a whole
number 1-120), `sex` from `ePatient.25` Sex, else the deprecated `ePatient.13` Gender, and
`race` the words of every `ePatient.14` Race, sorted and joined with "+" ("multiple" when that
would be over 64 characters).

NEMSIS has no dispatcher-assisted CPR element, so the outcome also carries its proxies for the
reviewer: `eDispatch.02` (EMD with pre-arrival instructions), `eArrest.19` (initial CPR time, and
whether it began before the 911 call) and `eArrest.20` (who first started CPR).

The document is untrusted: no DTD, no entities, no network, a size limit, and every code read is
checked against the NEMSIS code list, so a malformed report is refused naming its element and
line instead of quietly becoming a wrong outcome.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from lxml import etree

from service.qi import nemsis_codes as codes

MAX_DOCUMENT_BYTES: Final = 5_000_000
_NS: Final = {"n": codes.NAMESPACE}
_NIL: Final = f"{{{codes.XSI}}}nil"
# A non-negative xs:integer of at most three significant digits (so int() is cheap and safe).
_WHOLE_NUMBER: Final = re.compile(r"\+?0*([0-9]{1,3})")


class NemsisError(ValueError):
    """A document this service will not read, with the element and line at fault."""

    def __init__(self, reason: str, element: str | None = None, line: int | None = None) -> None:
        where = " ".join(part for part in (element or "", f"(line {line})" if line else "") if part)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.element = element
        self.line = line


@dataclass(frozen=True, slots=True)
class CareReport:
    """One patient care report: how to find its call, and what EMS found."""

    pcr_key: str  # eRecord.01, else the PatientCareReport UUID
    uuid: str | None
    cad_record_id: str | None  # eDispatch.06
    incident_number: str | None  # eResponse.03
    psap_call_at: datetime | None  # eTimes.01, aware
    outcome_at: datetime | None  # the report's latest date/time: see `latest_time`
    outcome: dict[str, Any]  # the `ems.outcome` data (JSON-ready)
    # The report alone as an EMSDataSet document (its Header without the other reports), kept
    # so a later link or re-match reads exactly what the import read.
    document: str = ""
    line: int | None = None


def parse(document: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> list[CareReport]:
    """Every patient care report of one EMSDataSet document, in document order."""
    root = _root(document, max_bytes)
    reports = [
        _report(pcr) for pcr in root.iterfind("n:Header/n:PatientCareReport", namespaces=_NS)
    ]
    if not reports:
        raise NemsisError("the EMSDataSet holds no Header/PatientCareReport", "EMSDataSet", 1)
    first_line: dict[str, int | None] = {}
    for r in reports:
        if r.pcr_key in first_line:
            raise NemsisError(
                f"report {r.pcr_key!r} appears twice (first at line {first_line[r.pcr_key]})",
                "PatientCareReport",
                r.line,
            )
        first_line[r.pcr_key] = r.line
    return reports


def _root(document: bytes, max_bytes: int) -> etree._Element:
    if len(document) > max_bytes:
        raise NemsisError(f"document of {len(document)} bytes is over the {max_bytes}-byte limit")
    if not document.strip():
        raise NemsisError("empty document: send a NEMSIS EMSDataSet XML document", "EMSDataSet")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise NemsisError(f"not well-formed XML: {exc.msg}", None, exc.lineno) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise NemsisError("document type declarations (DTD, entities) are refused", "DOCTYPE", 1)
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise NemsisError("entity references are refused", str(node.name), node.sourceline)
    qname = etree.QName(root)
    if qname.localname != "EMSDataSet" or qname.namespace != codes.NAMESPACE:
        found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise NemsisError(
            f"root element is {found}; expected EMSDataSet in namespace {codes.NAMESPACE}",
            qname.localname,
            root.sourceline,
        )
    return root


def _report(pcr: etree._Element) -> CareReport:
    uuid = pcr.get("UUID")
    pcr_key = _text(pcr, "eRecord/eRecord.01") or (uuid.strip() if uuid else None)
    if not pcr_key:
        raise NemsisError(
            "a PatientCareReport needs eRecord.01 or a UUID attribute",
            "PatientCareReport",
            pcr.sourceline,
        )
    if len(pcr_key) > 128:
        raise NemsisError("report number longer than 128 characters", "eRecord.01", pcr.sourceline)
    psap_call_at = _time(pcr, "eTimes/eTimes.01")
    return CareReport(
        pcr_key=pcr_key,
        uuid=uuid,
        cad_record_id=_text(pcr, "eDispatch/eDispatch.06"),
        incident_number=_text(pcr, "eResponse/eResponse.03"),
        psap_call_at=psap_call_at,
        outcome_at=latest_time(pcr),
        outcome=outcome(pcr, psap_call_at, pcr_key),
        document=_alone(pcr),
        line=pcr.sourceline,
    )


def _alone(pcr: etree._Element) -> str:
    """One report as its own EMSDataSet: the header's demographics and this report only."""
    header = pcr.getparent()
    assert header is not None
    root = etree.Element(f"{{{codes.NAMESPACE}}}EMSDataSet", nsmap={None: codes.NAMESPACE})
    copy = etree.SubElement(root, f"{{{codes.NAMESPACE}}}Header")
    for child in header:
        if child is pcr or etree.QName(child).localname != "PatientCareReport":
            copy.append(deepcopy(child))
    return etree.tostring(root, encoding="unicode")


def outcome(pcr: etree._Element, psap_call_at: datetime | None, pcr_key: str) -> dict[str, Any]:
    """The `ems.outcome` data of one report (DESIGN.md §2 fields, then the optional extras)."""
    arrest = _code(pcr, "eArrest/eArrest.01", codes.CARDIAC_ARREST)
    attempts = _codes(pcr, "eArrest/eArrest.03", codes.RESUSCITATION)
    rosc = [codes.ROSC[c] for c in _codes(pcr, "eArrest/eArrest.12", codes.ROSC)]
    end = _code(pcr, "eArrest/eArrest.18", codes.ARREST_END)
    emd = _code(pcr, "eDispatch/eDispatch.02", codes.EMD_PERFORMED)
    cpr_at = _time(pcr, "eArrest/eArrest.19")
    call_to_cpr = (cpr_at - psap_call_at).total_seconds() if cpr_at and psap_call_at else None
    return {
        "ohca": arrest in (codes.ARREST_BEFORE_EMS, codes.ARREST_AFTER_EMS),
        "resuscitation_attempted": any(a in codes.RESUSCITATION_ATTEMPTS for a in attempts),
        "ems_witnessed": arrest == codes.ARREST_AFTER_EMS,
        "cardiac_arrest": codes.CARDIAC_ARREST.get(arrest or ""),
        "etiology": _word(pcr, "eArrest/eArrest.02", codes.ETIOLOGY),
        "resuscitation": [codes.RESUSCITATION[a] for a in attempts],
        "arrest_witnessed_by": [
            codes.WITNESSED_BY[w] for w in _codes(pcr, "eArrest/eArrest.04", codes.WITNESSED_BY)
        ],
        "arrest_at": _iso(_time(pcr, "eArrest/eArrest.14")),
        "first_rhythm": _word(pcr, "eArrest/eArrest.11", codes.FIRST_RHYTHM),
        "rosc": any(rosc) if rosc else None,
        "arrest_end": codes.ARREST_END.get(end or ""),
        "survived": _survived(pcr, end),
        "age_years": _age_years(pcr),
        "sex": _word(pcr, "ePatient/ePatient.25", codes.SEX)
        or _word(pcr, "ePatient/ePatient.13", codes.GENDER),
        "race": _race(pcr),
        "cpr_started_at": _iso(cpr_at),
        "cpr_initiated_by": _word(pcr, "eArrest/eArrest.20", codes.CPR_INITIATED_BY),
        "cpr_before_call": call_to_cpr < 0 if call_to_cpr is not None else None,
        "seconds_call_to_cpr": call_to_cpr,
        "emd_performed": codes.EMD_PERFORMED.get(emd or ""),
        "pre_arrival_instructions": codes.PRE_ARRIVAL_INSTRUCTIONS.get(emd or ""),
        "pcr_key": pcr_key,
    }


def _survived(pcr: etree._Element, end: str | None) -> bool | None:
    """False on any recorded death (EMS or hospital), else True on a discharge alive, else None."""
    ed = _code(pcr, "eOutcome/eOutcome.01", codes.ED_DISPOSITION_SURVIVED)
    hospital = _code(pcr, "eOutcome/eOutcome.02", codes.HOSPITAL_DISPOSITION_SURVIVED)
    said = [
        codes.ED_DISPOSITION_SURVIVED.get(ed or ""),
        codes.HOSPITAL_DISPOSITION_SURVIVED.get(hospital or ""),
    ]
    if end in codes.EXPIRED or any(s is False for s in said):
        return False
    return True if any(s is True for s in said) else None


def _age_years(pcr: etree._Element) -> int | float | None:
    """`ePatient.15` in years: whole years as an int, other units as a fraction of a year."""
    unit = _code(pcr, "ePatient/ePatient.AgeGroup/ePatient.16", codes.AGE_UNITS)
    age = _text(pcr, "ePatient/ePatient.AgeGroup/ePatient.15")
    if unit is None or age is None:
        return None
    whole = _WHOLE_NUMBER.fullmatch(age)
    number = int(whole.group(1)) if whole else None
    if number is None or not codes.AGE_MIN <= number <= codes.AGE_MAX:
        return None
    return number if unit == codes.AGE_UNIT_YEARS else number * codes.AGE_UNITS[unit]


def _race(pcr: etree._Element) -> str | None:
    words = sorted({codes.RACE[c] for c in _codes(pcr, "ePatient/ePatient.14", codes.RACE)})
    joined = "+".join(words)
    if len(joined) > codes.RACE_MAX_CHARS:
        return codes.MULTIPLE_RACES
    return joined or None


def latest_time(pcr: etree._Element) -> datetime | None:
    """The report's latest eTimes date/time (in practice the unit back in service, eTimes.13).

    It is the `at` of the report's `ems.outcome`: the moment EMS knew the whole outcome, taken
    from the document itself so that a re-imported report yields the very same event."""
    times = [
        t
        for element in pcr.iterfind("n:eTimes/*", namespaces=_NS)
        if (t := _parse_time(element)) is not None
    ]
    return max(times) if times else None


# -- element reading ---------------------------------------------------------------------------


def _elements(pcr: etree._Element, path: str) -> list[etree._Element]:
    return list(pcr.iterfind("/".join(f"n:{step}" for step in path.split("/")), namespaces=_NS))


def _value(element: etree._Element) -> str | None:
    """The element's text, or None for a NEMSIS "not value" (NV, PN with xsi:nil, or empty)."""
    if element.get(_NIL) in ("true", "1") or element.get("NV") is not None:
        return None
    text = (element.text or "").strip()
    return text or None


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname


def _text(pcr: etree._Element, path: str) -> str | None:
    found = _elements(pcr, path)
    return _value(found[0]) if found else None


def _codes(pcr: etree._Element, path: str, allowed: dict[str, Any]) -> list[str]:
    """Every value of a (possibly repeated) coded element, each checked against its code list."""
    values: list[str] = []
    for element in _elements(pcr, path):
        value = _value(element)
        if value is None:
            continue
        if value not in allowed:
            raise NemsisError(
                f"{value!r} is not a code of this element; one of {', '.join(allowed)}",
                _name(element),
                element.sourceline,
            )
        values.append(value)
    return values


def _code(pcr: etree._Element, path: str, allowed: dict[str, Any]) -> str | None:
    found = _codes(pcr, path, allowed)
    return found[0] if found else None


def _word(pcr: etree._Element, path: str, words: dict[str, str]) -> str | None:
    code = _code(pcr, path, words)
    return words[code] if code is not None else None


def _parse_time(element: etree._Element) -> datetime | None:
    value = _value(element)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None or "T" not in value:
        raise NemsisError(
            f"{value!r} is not a NEMSIS date/time (YYYY-MM-DDThh:mm:ss with a UTC offset)",
            _name(element),
            element.sourceline,
        )
    return parsed


def _time(pcr: etree._Element, path: str) -> datetime | None:
    found = _elements(pcr, path)
    return _parse_time(found[0]) if found else None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None
