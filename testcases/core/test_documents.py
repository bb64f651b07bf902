"""Annex II 2.x: the system accepts and returns EEHRxF documents, and refuses invalid ones
without keeping anything of them."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import Capability, NotFound, Rejected
from conformance.auditlog import identifier_value

CATEGORY = "patient-summary"


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, dict)]


def _subject_patient(bundle: dict[str, Any]) -> dict[str, Any] | None:
    resources = _resources(bundle)
    if not resources or resources[0].get("resourceType") != "Composition":
        return None
    ref = (resources[0].get("subject") or {}).get("reference", "")
    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        if entry.get("fullUrl") == ref or f"{res.get('resourceType')}/{res.get('id')}" == ref:
            return res if res.get("resourceType") == "Patient" else None
    return None


@pytest.mark.requirement("EHDS-INT-007")
@pytest.mark.capability(Capability.SUBMIT)
def test_valid_document_is_accepted(sut, accounts, new_patient, documents, evidence):
    """Procedure: submit a valid patient summary for a fresh patient as the health professional, then look the
    patient up by identifier and list their documents. Observed: the receipt, the lookup result and the listing.
    Decides EHDS-INT-007: data in the exchange format must be accepted, so a rejection, a patient not found under
    the receipt's id or a document absent from the listing fails; only a pushed patient summary is tried (not
    other categories, nor the system obtaining data from another system itself)."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = hp.submit(documents.valid(CATEGORY, patient))
    evidence.note(f"accepted as document {receipt.document_id} for patient {receipt.patient_id}")
    assert hp.find_patient(patient.identifier) == receipt.patient_id, "the patient of the document cannot be found"
    listed = {d.document_id for d in hp.list_documents(receipt.patient_id)}
    assert receipt.document_id in listed, "the accepted document is not listed for its patient"


@pytest.mark.requirement("EHDS-INT-004")
@pytest.mark.capability(Capability.EXPORT)
def test_export_is_a_document_bundle_about_the_patient(sut, accounts, new_patient, documents, evidence):
    """Procedure: file a patient summary for each of two fresh patients, then fetch each patient's patient
    summary by patient and category. Observed: resourceType and type of the result, whether the first entry is a
    Composition whose subject resolves to a Patient in the Bundle, and that Patient's identifiers. Decides
    EHDS-INT-004: the retrieved document must be a document Bundle starting with its Composition about the same
    patient; the fetch does not follow a listed document's link and the content type is not checked."""
    hp = sut.login(accounts.hp)
    patients = [new_patient(), new_patient()]
    receipts = [hp.submit(documents.valid(CATEGORY, p)) for p in patients]
    for patient, receipt in zip(patients, receipts, strict=False):
        bundle = hp.fetch(receipt.patient_id, CATEGORY)
        evidence.add("document", bundle, label=f"export for {patient.identifier}")
        assert bundle.get("resourceType") == "Bundle", f"export is a {bundle.get('resourceType')}, not a Bundle"
        assert bundle.get("type") == "document", f"export is a Bundle of type {bundle.get('type')!r}, not 'document'"
        subject = _subject_patient(bundle)
        assert subject is not None, "the document's Composition.subject does not resolve to a Patient in the Bundle"
        values = {str(i.get("value")) for i in subject.get("identifier", []) if isinstance(i, dict)}
        assert identifier_value(patient.identifier) in values, (
            f"the export for patient {patient.identifier} is about someone else (identifiers {sorted(values)})")


def _drop_composition(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"] = bundle["entry"][1:]
    return bundle


def _collection(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["type"] = "collection"
    return bundle


def _dangling_subject(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"][0]["resource"]["subject"] = {"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
    return bundle


def _bad_status(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"][0]["resource"]["status"] = "not-a-status"
    return bundle


def _not_fhir(bundle: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "NotAResource", "entry": bundle["entry"]}


BREAKAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "no Composition first": _drop_composition,
    "Bundle.type is not document": _collection,
    "Composition.subject does not resolve": _dangling_subject,
    "Composition.status outside its required binding": _bad_status,
    "unknown resourceType": _not_fhir,
}


@pytest.mark.requirement("EHDS-INT-012")
@pytest.mark.capability(Capability.SUBMIT)
@given(breakage=st.sampled_from(sorted(BREAKAGES)))
def test_invalid_document_is_rejected_and_nothing_is_stored(sut, accounts, new_patient, documents, evidence,
                                                            breakage):
    """Procedure: break a valid patient summary for a fresh patient in one hypothesis-drawn way (no Composition
    first, Bundle.type collection, dangling Composition.subject, invalid Composition.status, unknown
    resourceType) and submit it; then look the patient up by identifier. Observed: the Rejected answer and its
    reason, and NotFound from the lookup. Decides EHDS-INT-012: invalid input must be refused with a reason and
    nothing kept, so acceptance, a blank reason or a patient found afterwards fails; no change to existing data
    is checked (the patient is fresh)."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    broken = BREAKAGES[breakage](copy.deepcopy(documents.valid(CATEGORY, patient)))
    try:
        receipt = hp.submit(broken)
    except Rejected as answer:
        assert answer.reason.strip(), f"the rejection of a document with '{breakage}' gives no reason"
    else:
        raise AssertionError(f"a document with '{breakage}' was accepted (stored as {receipt.document_id})")
    try:
        pid = hp.find_patient(patient.identifier)
    except NotFound:
        evidence.note(f"'{breakage}': rejected, and no trace of the patient")
        return
    left = hp.list_documents(pid)
    raise AssertionError(f"after rejecting a document with '{breakage}', its patient was kept as {pid!r} "
                         f"with {len(left)} document(s)")
