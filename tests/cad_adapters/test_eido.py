"""The EIDO parser (cad_adapters/eido.py): NENA's sample, hand-written snapshots of a transferred
call, a nature code and units over three snapshots, stable ids, and precise refusals."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eido_docs import INCIDENT, ref, snapshots, transferred, unit

from cad_adapters import eido
from cad_adapters.core import ParseError, canonical, derive_id


def by_kind(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        out.setdefault(e["kind"], []).append(e)
    return out


def test_nena_sample_gives_t0_and_the_answer(shared: Path) -> None:
    path = shared / "standards" / "eido" / "samples" / "sample_call_transfer_EIDO.json"
    events = eido.parse(path.read_bytes(), "PSAP1")
    call = "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    leg_id = "urn:emergency:uid:callid:a56e556d871:bcf.state.pa.us"
    assert events == [
        {
            "event_id": derive_id("eido", call, "call.received", leg_id),
            "call_id": call,
            "agency": "PSAP1",
            "kind": "call.received",
            "at": "2021-04-30T14:40:00-04:00",
            "source": "cad",
            "data": {"psap": "state.pa.us"},
        },
        {
            "event_id": derive_id("eido", call, "call.answered", leg_id),
            "call_id": call,
            "agency": "PSAP1",
            "kind": "call.answered",
            "at": "2021-04-30T14:42:00-04:00",
            "source": "cad",
            "actor": "tjones.atroop@state.pa.us",
            "data": {},
        },
    ]
    # The same document as an already decoded object gives the same events.
    assert eido.parse(json.loads(path.read_bytes()), "PSAP1") == events


def test_transfer_between_agencies_and_nature_code() -> None:
    events = eido.parse(transferred(), "EMS1")
    assert all(e["call_id"] == INCIDENT and e["agency"] == "EMS1" for e in events)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    kinds = by_kind(events)
    assert [(e["at"], e["data"]) for e in kinds["call.received"]] == [
        ("2026-03-02T09:00:00-06:00", {"psap": "psap.city.gov"}),
        ("2026-03-02T09:00:40-06:00", {"psap": "psap.city.gov"}),
    ]
    # Answered by the agency that dispatches EMS, which the transfer reached (DESIGN.md §2): the
    # city PSAP's answer at 09:00:05 would hide the transfer's 40 s and credit its call-taker.
    assert [(e["at"], e["actor"]) for e in kinds["call.answered"]] == [
        ("2026-03-02T09:00:48-06:00", "jdoe@ems.county.gov"),
    ]
    # The second leg's agent belongs to the county: that is where the call went.
    [transfer] = kinds["call.transferred"]
    assert transfer["at"] == "2026-03-02T09:00:40-06:00"
    assert transfer["data"] == {"to": "ems.county.gov"}
    assert transfer["event_id"] == derive_id("eido", INCIDENT, "call.transferred", "call-leg-2")
    [nature] = kinds["call.nature"]
    assert nature["at"] == "2026-03-02T09:01:10-06:00"
    assert nature["data"] == {"code": "09E01", "text": "Cardiac arrest - not breathing"}
    assert "call.ended" not in kinds


def test_leg_without_agent_uses_its_updating_agency() -> None:
    doc = transferred()
    for component in doc["callComponent"]:
        del component["agentReference"]
    doc["callComponent"][0]["updatedByAgencyReference"] = ref("ems.county.gov")
    [transfer] = by_kind(eido.parse(doc, "EMS1"))["call.transferred"]
    assert transfer["data"] == {"to": "ems.county.gov"}
    # Same agency on both legs: no transfer.
    doc["callComponent"][0]["updatedByAgencyReference"] = ref("psap.city.gov")
    assert "call.transferred" not in by_kind(eido.parse(doc, "EMS1"))


def test_incident_component_as_a_list_and_the_document_id_fallback() -> None:
    doc = transferred()
    doc["incidentComponent"] = [doc["incidentComponent"]]
    assert {e["call_id"] for e in eido.parse(doc, "EMS1")} == {INCIDENT}
    del doc["incidentComponent"][0]["internalIncidentId"]
    del doc["incidentComponent"][0]["incidentTypeInternalCode"]
    del doc["incidentComponent"][0]["incidentTypeInternalText"]
    events = eido.parse(doc, "EMS1")
    assert {e["call_id"] for e in events} == {doc["$id"]}
    # Without an internal code the common registry text is the nature code, with no text.
    assert by_kind(events)["call.nature"][0]["data"] == {"code": "Medical"}
    doc["incidentComponent"] = []
    assert "call.nature" not in by_kind(eido.parse(doc, "EMS1"))


def test_call_ends_when_every_leg_has_ended() -> None:
    doc = transferred()
    first, second = doc["callComponent"][1], doc["callComponent"][0]
    first.update(callStateRegistryText="callEnd", lastUpdateTimeStamp="2026-03-02T09:00:55-06:00")
    # The first PSAP hung up after the transfer; the county is still on the call.
    assert "call.ended" not in by_kind(eido.parse(doc, "EMS1"))
    second.update(callStateRegistryText="callEnd", lastUpdateTimeStamp="2026-03-02T09:09:00-06:00")
    [ended] = by_kind(eido.parse(doc, "EMS1"))["call.ended"]
    assert ended["at"] == "2026-03-02T09:09:00-06:00"
    assert ended["event_id"] == derive_id("eido", INCIDENT, "call.ended", "call-leg-2")


def test_units_over_three_snapshots() -> None:
    one, two, three = (by_kind(eido.parse(s, "EMS1")) for s in snapshots())
    assert [e["data"] for e in one["unit.dispatched"]] == [{"unit": "M12"}]
    assert "unit.on_scene" not in one  # "Available" is not a dispatch
    assert [(e["at"], e["data"]) for e in two["unit.dispatched"]] == [
        ("2026-03-02T09:02:10-06:00", {"unit": "E7"}),
        ("2026-03-02T09:03:00-06:00", {"unit": "M12"}),
    ]
    # A restated status keeps its id, whatever its new time: the store keeps the first report.
    m12 = next(e for e in two["unit.dispatched"] if e["data"]["unit"] == "M12")
    assert m12["event_id"] == one["unit.dispatched"][0]["event_id"]
    assert m12["at"] != one["unit.dispatched"][0]["at"]
    assert [(e["at"], e["data"]) for e in three["unit.on_scene"]] == [
        ("2026-03-02T09:08:30-06:00", {"unit": "M12"}),
        ("2026-03-02T09:09:10-06:00", {"unit": "unit-e7"}),  # no name: the $id
    ]
    assert "unit.dispatched" not in three


def test_resent_snapshot_gives_identical_events() -> None:
    doc = snapshots()[1]
    assert eido.parse(copy.deepcopy(doc), "EMS1") == eido.parse(doc, "EMS1")
    ids = [e["event_id"] for e in eido.parse(doc, "EMS1")]
    assert len(ids) == len(set(ids))


def test_every_event_meets_the_canonical_contract() -> None:
    for doc in [transferred(), *snapshots()]:
        for e in eido.parse(doc, "EMS1"):
            assert canonical(dict(e)) == e


def test_timestamps_keep_their_own_offset() -> None:
    doc = transferred()
    doc["callComponent"][1]["callStartTimestamp"] = "2026-03-02T15:00:00.123Z"
    received = by_kind(eido.parse(doc, "EMS1"))["call.received"]
    assert received[0]["at"] == "2026-03-02T15:00:00.123000+00:00"
    assert received[1]["at"] == "2026-03-02T09:00:40-06:00"


def refusal(document: object | bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        eido.parse(document, "EMS1")
    return caught.value


def edited(change: Any) -> dict[str, Any]:
    doc = transferred()
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"\xff\xfe\x00", None, "not valid JSON"),
        (b"[1, 2]", None, "not an array"),
        ("a string", None, "not a string"),
        (
            edited(lambda d: d["callComponent"][1].update(callStartTimestamp="2026-03-02T09:00")),
            "callComponent[1].callStartTimestamp",
            "not an RFC 3339",
        ),
        (
            edited(
                lambda d: d["callComponent"][1].update(callStartTimestamp="2026-03-02T09:00:00")
            ),
            "callComponent[1].callStartTimestamp",
            "no UTC offset",
        ),
        (
            edited(lambda d: d["callComponent"][0].update(answerDate="2026-02-30T09:00:00-06:00")),
            "callComponent[0].answerDate",
            "not a valid date",
        ),
        (
            edited(lambda d: d["callComponent"][0].update(callStartTimestamp=1772463600)),
            "callComponent[0].callStartTimestamp",
            "string",
        ),
        (
            edited(lambda d: d["callComponent"][0].pop("callStartTimestamp")),
            "callComponent[0].callStartTimestamp",
            "missing",
        ),
        (
            edited(lambda d: d["callComponent"][1].pop("$id")),
            "callComponent[1].$id",
            "missing",
        ),
        (
            edited(lambda d: (d.pop("$id"), d["incidentComponent"].pop("internalIncidentId"))),
            "$id",
            "neither $id nor",
        ),
        (
            edited(lambda d: d["incidentComponent"].update(internalIncidentId=42)),
            "incidentComponent.internalIncidentId",
            "must be a string, not a number",
        ),
        (
            edited(
                lambda d: d.update(
                    incidentComponent=[{**d["incidentComponent"], "internalIncidentId": ""}]
                )
            ),
            "incidentComponent[0].internalIncidentId",
            "empty",
        ),
        (
            edited(lambda d: d["incidentComponent"].update(internalIncidentId="x" * 129)),
            "incidentComponent.internalIncidentId",
            "over 128",
        ),
        (
            edited(lambda d: d.update(incidentComponent="INC-1")),
            "incidentComponent",
            "must be an object",
        ),
        (
            edited(lambda d: d.update(callComponent={"$id": "x"})),
            "callComponent",
            "must be an array",
        ),
        (
            edited(lambda d: d["callComponent"].append("leg-3")),
            "callComponent[2]",
            "must be an object",
        ),
        (
            edited(lambda d: d["callComponent"][0].update(agentReference=ref("jdoe"))),
            "callComponent[0].agentReference",
            "array of references",
        ),
        (
            edited(lambda d: d["callComponent"][0].update(agentReference=[{"$ref": 7}])),
            "callComponent[0].agentReference[0].$ref",
            "must be a string",
        ),
        (
            edited(lambda d: d["callComponent"][0].update(callStateRegistryText=["callEnd"])),
            "callComponent[0].callStateRegistryText",
            "must be a string, not an array",
        ),
        (
            edited(lambda d: d["incidentComponent"].update(lastUpdateTimeStamp="yesterday")),
            "incidentComponent.lastUpdateTimeStamp",
            "not an RFC 3339",
        ),
        (
            edited(lambda d: d["incidentComponent"].update(incidentTypeInternalCode="9" * 65)),
            "incidentComponent.incidentTypeInternalCode",
            "over 64",
        ),
        (
            edited(
                lambda d: d.update(
                    emergencyResourceComponent=[
                        unit("u1", "Dispatched", "2026-03-02T09:01:20"),
                    ]
                )
            ),
            "emergencyResourceComponent[0].lastUpdateTimeStamp",
            "no UTC offset",
        ),
        (
            edited(
                lambda d: d.update(
                    emergencyResourceComponent=[
                        unit("urn:" + "u" * 70, "Dispatched", "2026-03-02T09:01:20Z", name=None),
                    ]
                )
            ),
            "emergencyResourceComponent[0].$id",
            "over 64",
        ),
        (
            edited(
                lambda d: d.update(
                    emergencyResourceComponent=[
                        unit("u1", "Dispatched", "2026-03-02T09:01:20Z", name=None) | {"$id": None}
                    ]
                )
            ),
            "emergencyResourceComponent[0].$id",
            "missing",
        ),
    ],
)
def test_bad_documents_name_the_field(document: object, field: str | None, words: str) -> None:
    error = refusal(document)
    assert error.field == field
    assert words in error.reason


def test_status_outside_the_mapping_is_ignored_not_refused() -> None:
    doc = transferred()
    doc["emergencyResourceComponent"] = [
        unit("u1", "Enroute", "2026-03-02T09:04:00-06:00"),
        unit("u2", "Transporting", "not even a time"),  # ignored before its time is read
    ]
    kinds = by_kind(eido.parse(doc, "EMS1"))
    assert "unit.dispatched" not in kinds and "unit.on_scene" not in kinds


def test_bad_agency_is_refused_by_the_canonical_check() -> None:
    with pytest.raises(ParseError) as caught:
        eido.parse(transferred(), "A" * 33)
    assert caught.value.field == "agency"


def test_derive_id_takes_any_python_string_and_keeps_existing_ids() -> None:
    # json.loads gives lone surrogates; an id must still come out rather than an exception.
    assert derive_id("eido", "\ud800") != derive_id("eido", "\udfff")
    # Valid text hashes exactly as before: ids already stored do not change.
    expected = "eido-073b4750b589ac1ab1681b6abedb6c4f7521bb6a"
    assert derive_id("eido", "INC-77", "call.nature", "09E01") == expected


LONE = "\ud800"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update({"$id": "urn:" + LONE}), "$id"),
        (
            lambda d: d["incidentComponent"].update(internalIncidentId=LONE),
            "incidentComponent.internalIncidentId",
        ),
        (lambda d: d["callComponent"][1].update({"$id": "leg" + LONE}), "callComponent[1].$id"),
        (
            lambda d: d["callComponent"][0].update(agentReference=[ref(LONE)]),
            "callComponent[0].agentReference[0].$ref",
        ),
        (
            lambda d: d["incidentComponent"].update(incidentTypeInternalText="Cardiac " + LONE),
            "incidentComponent.incidentTypeInternalText",
        ),
        # Not read for any event, yet the document could not be sent on: refused all the same.
        (lambda d: d["callComponent"][0].update(notes=["ok", LONE]), "callComponent[0].notes[1]"),
        (lambda d: d["incidentComponent"].update({LONE: 1}), "incidentComponent.\\ud800"),
    ],
)
def test_text_that_is_not_unicode_is_refused_naming_the_field(change: Any, field: str) -> None:
    error = refusal(edited(change))
    assert error.field == field
    assert "U+D800" in error.reason
    str(error).encode("utf-8")  # the refusal itself can be answered and stored


def test_a_string_the_parser_reads_is_checked_even_without_the_document_walk() -> None:
    with pytest.raises(ParseError) as caught:
        eido.call_id({"$id": "x" + LONE})
    assert caught.value.field == "$id"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_the_json_text_are_refused(constant: str) -> None:
    text = json.dumps(transferred())[:-1] + f', "extra": [1, {constant}]}}'
    with pytest.raises(ParseError) as caught:
        eido.load(text.encode())
    assert caught.value.field is None
    assert constant in caught.value.reason and "RFC 8259" in caught.value.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(extra={"deep": [0.5, float("nan")]}), "extra.deep[1]"),
        (lambda d: d.update(big=float("-inf")), "big"),
        (lambda d: d.update(when={"at": object()}), "when.at"),
    ],
)
def test_a_decoded_document_that_json_cannot_carry_is_refused(change: Any, field: str) -> None:
    error = refusal(edited(change))
    assert error.field == field


def test_a_number_too_large_for_a_float_is_refused_by_name() -> None:
    text = json.dumps(transferred())[:-1] + ', "extra": 1e400}'
    error = refusal(text.encode())
    assert error.field == "extra"
