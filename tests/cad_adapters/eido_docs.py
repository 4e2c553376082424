"""EIDO documents written for the tests: a transferred cardiac-arrest call and its units'
status over three snapshots."""

from __future__ import annotations

import copy
from typing import Any

INCIDENT = "INC-2026-0042"


def ref(value: str) -> dict[str, str]:
    return {"$ref": value}


def leg(
    leg_id: str,
    start: str,
    *,
    agency: str,
    agent: str | None = None,
    answered: str | None = None,
    state: str = "callAnswered",
    updated: str | None = None,
) -> dict[str, Any]:
    """One callComponent, with only what the parser reads plus the schema's required fields."""
    component: dict[str, Any] = {
        "$id": leg_id,
        "lastUpdateTimeStamp": updated or answered or start,
        "updatedByAgencyReference": ref(agency),
        "standardPrimaryCallType": "emergency",
        "direction": "incoming",
        "callStartTimestamp": start,
        "callStateRegistryText": state,
    }
    if agent is not None:
        component["agentReference"] = [ref(agent)]
    if answered is not None:
        component["answerDate"] = answered
    return component


def agent(agent_id: str, agency: str) -> dict[str, Any]:
    return {
        "$id": agent_id,
        "lastUpdateTimeStamp": "2026-03-02T09:00:00-06:00",
        "updatedByAgencyReference": ref(agency),
        "agentRoleRegistryText": ["Call Taking"],
        "agencyReference": ref(agency),
    }


def unit(unit_id: str, status: str, updated: str, name: str | None = "M12") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "$id": unit_id,
        "lastUpdateTimeStamp": updated,
        "updatedByAgencyReference": ref("ems.county.gov"),
        "agentReference": [ref("m12-crew@ems.county.gov")],
        "emergencyResourceTypeCommonRegistryText": "ALS",
        "primaryUnitStatusRegistryText": status,
        "resourceAttributeRegistryText": [],
        "secondaryUnitStatusRegistryText": [],
    }
    if name is not None:
        resource["emergencyResourceName"] = name
    return resource


def transferred() -> dict[str, Any]:
    """A call answered by the police PSAP and transferred to the county EMS dispatch, with the
    incident typed as a cardiac arrest."""
    return {
        "$id": "urn:emergency:uid:incidentid:9f1:psap.city.gov",
        "lastUpdateTimeStamp": "2026-03-02T09:01:30-06:00",
        "updatedByAgencyReference": ref("ems.county.gov"),
        "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.ems.county.gov",
        "incidentComponent": {
            "$id": "urn:emergency:uid:incidentid:9f1:ems.county.gov",
            "lastUpdateTimeStamp": "2026-03-02T09:01:10-06:00",
            "updatedByAgencyReference": ref("ems.county.gov"),
            "incidentTypeCommonRegistryText": "Medical",
            "incidentTypeInternalCode": "09E01",
            "incidentTypeInternalText": "Cardiac arrest - not breathing",
            "internalIncidentId": INCIDENT,
        },
        # Listed out of order on purpose: legs are taken by callStartTimestamp.
        "callComponent": [
            leg(
                "call-leg-2",
                "2026-03-02T09:00:40-06:00",
                agency="psap.city.gov",  # the leg was written by the first PSAP ...
                agent="jdoe@ems.county.gov",  # ... but answered by an EMS call taker
                answered="2026-03-02T09:00:48-06:00",
            ),
            leg(
                "call-leg-1",
                "2026-03-02T09:00:00-06:00",
                agency="psap.city.gov",
                agent="asmith@psap.city.gov",
                answered="2026-03-02T09:00:05-06:00",
            ),
        ],
        "agencyComponent": [],
        "agentComponent": [
            agent("asmith@psap.city.gov", "psap.city.gov"),
            agent("jdoe@ems.county.gov", "ems.county.gov"),
        ],
    }


def snapshots() -> list[dict[str, Any]]:
    """Three snapshots of one incident as its units change status."""
    one = transferred()
    one["emergencyResourceComponent"] = [
        unit("unit-m12", "Dispatched", "2026-03-02T09:01:20-06:00"),
        unit("unit-e7", "Available", "2026-03-02T09:01:20-06:00", name="E7"),
    ]
    two = copy.deepcopy(one)
    two["emergencyResourceComponent"] = [
        unit("unit-m12", "Dispatched", "2026-03-02T09:03:00-06:00"),  # restated, later stamp
        unit("unit-e7", "ASSIGNED", "2026-03-02T09:02:10-06:00", name="E7"),
    ]
    three = copy.deepcopy(two)
    three["emergencyResourceComponent"] = [
        unit("unit-m12", "On-Scene", "2026-03-02T09:08:30-06:00"),
        unit("unit-e7", "at patient", "2026-03-02T09:09:10-06:00", name=None),
    ]
    return [one, two, three]
