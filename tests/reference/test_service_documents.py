"""Accepting, rejecting, storing and exporting documents in the reference EHR."""

from __future__ import annotations

import base64
import sqlite3
import threading

import pytest

from conformance.adapter import Rejected
from conformance.adapters.reference.service import ReferenceEHR
from tests.reference.bundles import DEFECTS, broken, cda, document, new_patient_identifier

ALT_CODES = [("18748-4", "imaging"), ("85430-7", "imaging"), ("18842-5", "discharge"), ("34105-7", "discharge"),
             ("60591-5", "patient-summary"), ("57833-6", "eprescription"), ("60593-1", "edispensation"),
             ("11502-2", "laboratory")]


def _counts(ehr: ReferenceEHR) -> tuple[int, int]:
    conn = sqlite3.connect(ehr.store.path)
    try:
        return (conn.execute("SELECT COUNT(*) FROM patients").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    finally:
        conn.close()


def test_valid_document_is_stored_and_exported_unchanged(world):
    ident = new_patient_identifier()
    bundle = document("patient-summary", ident)
    receipt = world.ehr.submit(world.hp, bundle)
    assert world.ehr.find_patient(world.hp, ident) == receipt.patient_id
    [info] = world.ehr.list_documents(world.hp, receipt.patient_id)
    assert (info.document_id, info.category, info.title) == (receipt.document_id, "patient-summary", "Patient summary")
    assert world.ehr.fetch(world.hp, receipt.patient_id, "patient-summary") == bundle
    assert world.ehr.read_patient(world.hp, receipt.patient_id)["identifier"][0]["value"] == ident.split("|")[1]


@pytest.mark.parametrize("code,category", ALT_CODES)
def test_category_comes_from_the_composition_type(world, code, category):
    bundle = document("patient-summary", new_patient_identifier())
    bundle["entry"][0]["resource"]["type"]["coding"][0]["code"] = code
    receipt = world.ehr.submit(world.hp, bundle)
    [info] = world.ehr.list_documents(world.hp, receipt.patient_id)
    assert info.category == category


def test_documents_of_one_patient_are_filed_together_and_latest_wins(world):
    ident = new_patient_identifier()
    first = world.ehr.submit(world.hp, document("patient-summary", ident, title="first"))
    second = world.ehr.submit(world.hp_other, document("patient-summary", ident, title="second"))
    assert first.patient_id == second.patient_id
    assert world.ehr.fetch(world.hp, first.patient_id, "patient-summary")["entry"][0]["resource"]["title"] == "second"
    by_id = world.ehr.fetch(world.hp, first.patient_id, "patient-summary", document_id=first.document_id)
    assert by_id["entry"][0]["resource"]["title"] == "first"
    assert world.ehr.fetch_by_id(world.hp, first.document_id) == by_id


def test_the_latest_is_the_newest_document_date_not_the_last_received(world):
    ident = new_patient_identifier()
    newer = document("laboratory", ident, title="June")
    newer["entry"][0]["resource"]["date"] = "2025-06-01T10:00:00+02:00"
    older = document("laboratory", ident, title="January, received late")
    older["entry"][0]["resource"]["date"] = "2025-01-15T10:00:00+01:00"
    pid = world.ehr.submit(world.hp, newer).patient_id
    world.ehr.submit(world.hp, older)
    assert world.ehr.fetch(world.hp, pid, "laboratory")["entry"][0]["resource"]["title"] == "June"
    same = document("laboratory", ident, title="June, same instant")
    same["entry"][0]["resource"]["date"] = "2025-06-01T08:00:00Z"
    world.ehr.submit(world.hp, same)
    assert world.ehr.fetch(world.hp, pid, "laboratory")["entry"][0]["resource"]["title"] == "June, same instant"


@pytest.mark.parametrize("defect", DEFECTS)
def test_invalid_document_is_rejected_with_a_location_and_nothing_is_stored(world, defect):
    ident = new_patient_identifier()
    before = _counts(world.ehr)
    with pytest.raises(Rejected) as answer:
        world.ehr.submit(world.hp, broken(document("laboratory", ident), defect))
    assert "nothing stored" in answer.value.reason
    assert answer.value.details["issues"] and all(i["location"] for i in answer.value.details["issues"])
    assert _counts(world.ehr) == before
    with pytest.raises(Exception):  # noqa: B017 - NotFound: the patient was not created either
        world.ehr.find_patient(world.hp, ident)


def test_invalid_document_for_a_known_patient_adds_nothing(world):
    ident = new_patient_identifier()
    pid = world.ehr.submit(world.hp, document("laboratory", ident)).patient_id
    with pytest.raises(Rejected, match="Bundle.entry\\[0\\].resource.section\\[0\\].entry\\[0\\]"):
        world.ehr.submit(world.hp, broken(document("laboratory", ident), "dangling-reference"))
    assert len(world.ehr.list_documents(world.hp, pid)) == 1


@pytest.mark.parametrize("bad", [None, "text", 42, [], {"resourceType": "Patient"}, b"not xml", b"<a/>", b"{bad json"])
def test_inputs_that_are_not_documents_are_rejected(world, bad):
    before = _counts(world.ehr)
    with pytest.raises(Rejected):
        world.ehr.submit(world.hp, bad)
    assert _counts(world.ehr) == before


def test_a_failed_transaction_leaves_nothing_behind(world):
    before = _counts(world.ehr)
    with pytest.raises(RuntimeError), world.ehr.store.transaction() as tx:
        tx.insert_patient("pat-x", [("urn:s", "v")], "F", "G", "", {"resourceType": "Patient"}, "now")
        raise RuntimeError("fail after the first write")
    assert _counts(world.ehr) == before


def test_origin_is_the_custodian_or_else_an_author_organisation_or_else_the_submitter(world):
    ident = new_patient_identifier()
    with_custodian = document("laboratory", ident, custodian=("urn:org", "lab-1", "Lab One"))
    without = document("laboratory", ident, custodian=("urn:org", "lab-2", "Lab Two"))
    del without["entry"][0]["resource"]["custodian"]
    neither = document("laboratory", ident)
    comp = neither["entry"][0]["resource"]
    del comp["custodian"]
    neither["entry"][2]["resource"] = {"resourceType": "Practitioner", "id": neither["entry"][2]["resource"]["id"]}
    pid = world.ehr.submit(world.hp, with_custodian).patient_id
    world.ehr.submit(world.hp, without)
    world.ehr.submit(world.hp, neither)
    origins = [d.origin_identifier for d in world.ehr.list_document_rows(world.hp, pid)]
    assert origins == ["urn:org|lab-1", "urn:org|lab-2", world.hp.organisation.identifier]


def test_cda_document_is_filed_and_exported_as_a_document_bundle(world):
    data = cda("1.2.250.1.213.1.4.8", "2790512345678")
    receipt = world.ehr.submit(world.hp, data)
    assert world.ehr.find_patient(world.hp, "urn:oid:1.2.250.1.213.1.4.8|2790512345678") == receipt.patient_id
    [info] = world.ehr.list_documents(world.hp, receipt.patient_id)
    assert info.category == "patient-summary" and info.title == "Patient Summary (CDA)"
    bundle = world.ehr.fetch(world.hp, receipt.patient_id, "patient-summary")
    assert bundle["type"] == "document" and bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    binary = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary")
    assert base64.b64decode(binary["data"]) == data
    assert world.ehr.store.documents(receipt.patient_id)[0].origin_identifier == "urn:oid:1.2.3.999|cda-org"


def test_cda_with_an_unknown_document_code_is_rejected(world):
    before = _counts(world.ehr)
    with pytest.raises(Rejected, match="ClinicalDocument/code"):
        world.ehr.submit(world.hp, cda("1.2.3", "x", code="11488-4"))
    assert _counts(world.ehr) == before


def test_data_survives_reopening_the_file(world, tmp_path):
    ident = new_patient_identifier()
    receipt = world.ehr.submit(world.hp, document("discharge", ident))
    world.ehr.close()
    again = ReferenceEHR(world.ehr.store.path, validation="structural")
    try:
        assert again.find_patient(world.hp, ident) == receipt.patient_id
        assert again.access_log(world.auditor, receipt.patient_id)
    finally:
        again.close()


def test_concurrent_submissions_from_many_threads(world):
    idents = [new_patient_identifier() for _ in range(6)]
    errors: list[BaseException] = []

    def work(ident: str) -> None:
        try:
            for category in ("patient-summary", "laboratory", "imaging"):
                world.ehr.submit(world.hp, document(category, ident))
            pid = world.ehr.find_patient(world.hp, ident)
            world.ehr.fetch(world.hp, pid, "laboratory")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in idents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _counts(world.ehr) == (6, 18)


def test_full_validation_is_used_when_installed(tmp_path):
    """With validation='auto' a validator's error rejects a structurally fine document."""
    from conformance.issues import ValidationIssue

    class Strict(ReferenceEHR):
        def _fhir_validation(self, bundle):  # stands in for conformance.fhir's default validator
            return [ValidationIssue("error", "value", "Bundle.entry[1].resource.birthDate", "bad date", "test")]

    ehr = Strict(tmp_path / "x.sqlite", validation="auto")
    try:
        from conformance.adapters.reference.accounts import provision_sandbox

        accounts = provision_sandbox(ehr)
        hp = ehr.authenticate(accounts.hp.kind, accounts.hp.identifier, accounts.hp.credentials)
        with pytest.raises(Rejected, match="birthDate"):
            ehr.submit(hp, document("patient-summary", new_patient_identifier()))
        assert _counts(ehr) == (0, 0)
    finally:
        ehr.close()


@pytest.mark.parametrize("hostile", [
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<ClinicalDocument xmlns="urn:hl7-org:v3">&x;</ClinicalDocument>'),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<ClinicalDocument xmlns="urn:hl7-org:v3">&b;</ClinicalDocument>'),
])
def test_xml_with_a_dtd_is_refused_without_reading_it(world, hostile):
    before = _counts(world.ehr)
    with pytest.raises(Rejected, match="DTD"):
        world.ehr.submit(world.hp, hostile)
    assert _counts(world.ehr) == before
