"""The reference EHR's access log: Annex II 3.2 content, Art 9 access, append-only."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from conformance.adapter import Denied, Restriction
from tests.reference.bundles import document, new_patient_identifier

ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"


def _org_agents(event):
    return [a for a in event["agent"] if any(c["system"] == ROLE_CLASS and c["code"] == "PROV"
                                             for c in a["type"]["coding"])]


def _person_agents(event):
    return [a for a in event["agent"] if a["requestor"] is True]


def _categories(event):
    return {d["valueString"] for e in event.get("entity", []) for d in e.get("detail", [])
            if d["type"] == "ehds-priority-category"}


def _origins(event):
    return {f"{e['what']['identifier']['system']}|{e['what']['identifier']['value']}"
            for e in event.get("entity", []) if e["type"]["code"] == "3"}


def _patients(event):
    return [e for e in event.get("entity", []) if e["type"]["code"] == "1" and e["role"]["code"] == "1"]


def test_a_read_is_logged_with_all_annex_ii_3_2_content(world):
    ident = new_patient_identifier()
    system, _, value = ident.partition("|")
    pid = world.ehr.submit(world.hp, document("laboratory", ident,
                                              custodian=("urn:org", "lab-9", "Lab Nine"))).patient_id
    world.clock.advance(minutes=5)
    world.ehr.fetch(world.hp_other, pid, "laboratory")
    event = world.ehr.access_log(world.auditor, pid)[-1]

    assert event["resourceType"] == "AuditEvent" and event["action"] == "R" and event["outcome"] == "0"
    assert event["meta"]["profile"] == [("https://profiles.ihe.net/ITI/BALP/StructureDefinition/"
                                        "IHE.BasicAudit.PatientRead")]
    # (a) the organisation on whose behalf, (b) the natural person
    [org] = _org_agents(event)
    assert org["who"]["identifier"] == {"system": "https://ehds-conformance.invalid/org", "value": "south-clinic"}
    assert org["who"]["display"] == "South Family Clinic"
    [person] = _person_agents(event)
    assert person["who"]["identifier"] == {"system": "https://ehds-conformance.invalid/hp", "value": "bruno-keller"}
    assert person["who"]["display"] == "Dr Bruno Keller"
    # (c) the category, (d) the time with its offset, (e) the origin
    assert _categories(event) == {"laboratory"}
    assert event["recorded"] == "2025-06-01T12:05:00.000+02:00"
    assert dt.datetime.fromisoformat(event["recorded"]) == world.clock.now
    assert _origins(event) == {"urn:org|lab-9"}
    # the patient, by reference and identifier
    [patient] = _patients(event)
    assert patient["what"]["reference"] == f"Patient/{pid}"
    assert patient["what"]["identifier"] == {"system": system, "value": value}
    assert "purposeOfEvent" not in event


def test_every_access_to_health_data_is_logged(world):
    ident = new_patient_identifier()
    receipt = world.ehr.submit(world.hp, document("patient-summary", ident))
    world.ehr.submit(world.hp, document("imaging", ident, custodian=("urn:org", "xray", "X-Ray Unit")))
    pid = receipt.patient_id
    world.ehr.list_documents(world.hp, pid)
    world.ehr.list_documents(world.hp_other, pid, "imaging")
    world.ehr.fetch(world.hp, pid, "patient-summary")
    world.ehr.fetch(world.patient(ident), pid, "imaging")
    log = world.ehr.access_log(world.auditor, pid)
    assert [(e["action"], e["subtype"][0]["code"]) for e in log] == [
        ("C", "create"), ("C", "create"), ("E", "search-type"), ("E", "search-type"), ("R", "read"), ("R", "read")]
    listing, by_category = log[2], log[3]
    assert _categories(listing) == {"patient-summary", "imaging"}
    assert _origins(listing) == {"https://ehds-conformance.invalid/test-org|origin-hospital", "urn:org|xray"}
    assert _categories(by_category) == {"imaging"}
    # the patient's own read names the patient as the person and no organisation
    own = log[-1]
    assert _org_agents(own) == []
    assert _person_agents(own)[0]["who"]["identifier"]["value"] == ident.split("|")[1]
    # every entry is about this patient and carries a time-zone offset
    assert all(_patients(e)[0]["what"]["reference"] == f"Patient/{pid}" for e in log)
    assert all(e["recorded"].endswith("+02:00") for e in log)
    assert len({e["id"] for e in log}) == len(log)


def test_an_empty_listing_is_still_logged_with_the_requested_category(world):
    pid = world.ehr.submit(world.hp, document("patient-summary", new_patient_identifier())).patient_id
    assert world.ehr.list_documents(world.hp, pid, "discharge") == []
    event = world.ehr.access_log(world.auditor, pid)[-1]
    assert event["action"] == "E" and _categories(event) == {"discharge"}


def test_the_patient_reads_their_own_log_the_auditor_any_health_professionals_none(world):
    ident = new_patient_identifier()
    pid = world.ehr.submit(world.hp, document("patient-summary", ident)).patient_id
    world.ehr.fetch(world.hp, pid, "patient-summary")
    mine = world.ehr.access_log(world.patient(ident), pid)
    assert mine == world.ehr.access_log(world.auditor, pid)
    assert len(mine) == 2
    for hp in (world.hp, world.hp_other):
        with pytest.raises(Denied):
            world.ehr.access_log(hp, pid)


def test_the_log_of_one_patient_holds_only_that_patient(world):
    a, b = new_patient_identifier(), new_patient_identifier()
    pa = world.ehr.submit(world.hp, document("patient-summary", a)).patient_id
    pb = world.ehr.submit(world.hp, document("patient-summary", b)).patient_id
    world.ehr.fetch(world.hp, pb, "patient-summary")
    assert len(world.ehr.access_log(world.auditor, pa)) == 1
    assert len(world.ehr.access_log(world.auditor, pb)) == 2


def test_emergency_read_is_flagged_in_the_log(world):
    ident = new_patient_identifier()
    pid = world.ehr.submit(world.hp, document("discharge", ident)).patient_id
    world.ehr.restrict(world.patient(ident), pid, Restriction(categories=frozenset({"discharge"})))
    world.ehr.fetch(world.hp, pid, "discharge", emergency_purpose="  cardiac   arrest ")
    event = world.ehr.access_log(world.patient(ident), pid)[-1]
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"
    assert event["purposeOfEvent"][0]["text"] == "cardiac arrest"
    assert _categories(event) == {"discharge"}


def test_the_log_is_append_only(world):
    pid = world.ehr.submit(world.hp, document("patient-summary", new_patient_identifier())).patient_id
    conn = sqlite3.connect(world.ehr.store.path)
    try:
        for sql in ("UPDATE audit_events SET outcome = '0'", "DELETE FROM audit_events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
    finally:
        conn.close()
    assert len(world.ehr.access_log(world.auditor, pid)) == 1


def test_the_log_holds_no_clinical_payload(world):
    ident = new_patient_identifier()
    bundle = document("laboratory", ident)
    bundle["entry"][3]["resource"]["valueString"] = "SECRET-FINDING-42"
    pid = world.ehr.submit(world.hp, bundle).patient_id
    world.ehr.fetch(world.hp, pid, "laboratory")
    assert "SECRET-FINDING-42" not in repr(world.ehr.access_log(world.auditor, pid))


def test_request_context_sets_the_client_and_the_request_id(world):
    from conformance.adapters.reference.service import request_context

    pid = world.ehr.submit(world.hp, document("patient-summary", new_patient_identifier())).patient_id
    with request_context(client_address="10.1.2.3", client_name="test client", server_address="https://ehr.test/fhir",
                         request_id="req-42"):
        world.ehr.fetch(world.hp, pid, "patient-summary")
    event = world.ehr.access_log(world.auditor, pid)[-1]
    networks = {a["type"]["coding"][0]["code"]: a.get("network") for a in event["agent"]}
    assert networks["110153"] == {"address": "10.1.2.3", "type": "2"}
    assert networks["110152"] == {"address": "https://ehr.test/fhir", "type": "5"}
    [xreq] = [e for e in event["entity"] if e["type"]["code"] == "XrequestId"]
    assert xreq["what"]["identifier"]["value"] == "req-42"
    world.ehr.fetch(world.hp, pid, "patient-summary")  # outside the block: back to the in-process defaults
    assert not [e for e in world.ehr.access_log(world.auditor, pid)[-1]["entity"] if e["type"]["code"] == "XrequestId"]


def test_log_entries_are_valid_balp_audit_events(world):
    """Every kind of entry validates against FHIR R4 and the BALP profile it claims."""
    from conformance.fhir import default_validator

    ident = new_patient_identifier()
    pid = world.ehr.submit(world.hp, document("patient-summary", ident)).patient_id
    world.ehr.submit(world.hp, document("laboratory", ident))
    world.ehr.list_documents(world.hp, pid)
    world.ehr.list_documents(world.hp, pid, "imaging")  # an empty listing
    world.ehr.fetch(world.hp_other, pid, "laboratory")
    world.ehr.fetch(world.patient(ident), pid, "patient-summary")
    world.ehr.fetch(world.hp, pid, "patient-summary", emergency_purpose="stroke")
    for refused in (lambda: world.ehr.fetch(world.hp, pid, "patient-summary", emergency_purpose=""),
                    lambda: world.ehr.access_log(world.hp, pid)):
        with pytest.raises(Denied):
            refused()
    log = world.ehr.access_log(world.auditor, pid)
    assert {(e["action"], e["outcome"]) for e in log} == {("C", "0"), ("E", "0"), ("R", "0"), ("R", "4"), ("E", "4")}
    validator = default_validator()
    for entry in log:
        errors = [f"{i.location}: {i.message}" for i in validator.validate(entry) if i.is_error]
        assert not errors, (entry.get("meta"), errors)
