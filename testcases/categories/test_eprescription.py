"""ePrescription (Art 14(1)(b)): the SUT accepts and exports prescriptions.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-eprescription-ehds-min
(a minimal stand-in written from HL7 Europe MPD 1.0.0; set EHDS_CONFORMANCE_PROFILE_EPRESCRIPTION to check an
official profile instead).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from conformance.adapter import Capability
from conformance.documents import for_patient, resolve, resources
from conformance.settings import example_scope, examples
from conformance.strategies import documents
from ehds_support.categories import export_only, submit_and_export

CATEGORY = "eprescription"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY)]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


def _medication_is_coded(bundle, request) -> bool:
    if (request.get("medicationCodeableConcept") or {}).get("coding"):
        return True
    medication = resolve(bundle, (request.get("medicationReference") or {}).get("reference", ""))
    return bool(medication and (medication.get("code") or {}).get("coding"))


@pytest.mark.requirement("EP-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_prescription_carries_what_a_pharmacist_needs(hp, new_patient, fhir_validator, evidence, document):
    """Procedure: submit a generated ePrescription, export it, and read every MedicationRequest. Observed: subject,
    date, prescriber, dosage and the coding of the medication. Decides EP-001: a prescription carries what a
    pharmacist in another country needs to dispense it."""
    exported = export_only(hp, new_patient(), document, evidence)
    requests = resources(exported, "MedicationRequest")
    assert requests, "the exported ePrescription carries no MedicationRequest"
    for request in requests:
        where = f"MedicationRequest {(request.get('identifier') or [{}])[0].get('value', '?')}"
        subject = resolve(exported, (request.get("subject") or {}).get("reference", ""))
        assert subject and subject.get("resourceType") == "Patient", f"{where}: subject does not resolve to the patient"
        assert request.get("authoredOn"), f"{where}: no authoredOn"
        assert request.get("requester"), f"{where}: no requester (prescriber)"
        assert request.get("dosageInstruction"), f"{where}: no dosage instruction"
        assert _medication_is_coded(exported, request), f"{where}: the medication is not coded"


@pytest.mark.requirement("EP-002")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_active_prescriptions_can_be_read(hp, new_patient, evidence, document):
    """Procedure: submit prescriptions for a patient and ask for the patient's ePrescriptions. Observed: which active
    prescriptions come back. Decides EP-002: every active prescription can be read by a dispensing professional."""
    patient = new_patient()
    sent = for_patient(document, patient)
    wanted = {(r.get("identifier") or [{}])[0].get("value") for r in resources(sent, "MedicationRequest")
              if r.get("status") == "active"}
    with example_scope(evidence, "ep-readable").example(patient=patient.identifier, prescriptions=sorted(wanted)):
        exported = submit_and_export(hp, sent, patient, CATEGORY)
        got = {ident.get("value") for r in resources(exported, "MedicationRequest") if r.get("status") == "active"
               for ident in r.get("identifier") or []}
        evidence.add("prescriptions", {"sent_active": sorted(wanted), "read_active": sorted(v for v in got if v)})
        missing = wanted - got
        assert not missing, f"active prescription(s) {sorted(missing)} cannot be read back for {patient.identifier}"
