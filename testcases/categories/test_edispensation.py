"""eDispensation (Art 14(1)(c)): the SUT accepts and exports dispensations linked to prescriptions.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-edispensation-ehds-min
(a minimal stand-in written from HL7 Europe MPD 1.0.0; set EHDS_CONFORMANCE_PROFILE_EDISPENSATION to check an
official profile instead).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability
from conformance.documents import for_patient, resolve, resources
from conformance.settings import example_scope, examples
from conformance.strategies import documents
from ehds_support.categories import export_only, submit_and_export

CATEGORY = "edispensation"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY, "eprescription")]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


def _ident(resource) -> str:
    return (resource.get("identifier") or [{}])[0].get("value", "?")


@pytest.mark.requirement("ED-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_dispensation_records_who_what_when(hp, new_patient, fhir_validator, evidence, document):
    """Procedure: submit a generated eDispensation (with its prescription), export it, and read every
    MedicationDispense. Observed: status, performer, quantity, hand-over time, whether the medicine was substituted
    (and that it says what was sent), authorising prescription. Decides ED-001: each dispensation states who
    dispensed what, how much, when, and whether it was substituted, against a prescription in the document."""
    sent_substitution = {_ident(d): (d.get("substitution") or {}).get("wasSubstituted")
                         for d in resources(document, "MedicationDispense")}
    exported = export_only(hp, new_patient(), document, evidence)
    dispenses = resources(exported, "MedicationDispense")
    assert dispenses, "the exported eDispensation carries no MedicationDispense"
    for dispense in dispenses:
        where = f"MedicationDispense {_ident(dispense)}"
        assert dispense.get("status"), f"{where}: no status"
        assert any((p.get("actor") or {}).get("reference") for p in dispense.get("performer") or []), \
            f"{where}: no performer.actor (who dispensed)"
        assert (dispense.get("quantity") or {}).get("value") is not None, f"{where}: no dispensed quantity"
        assert dispense.get("whenHandedOver"), f"{where}: no hand-over time"
        substitution = dispense.get("substitution") or {}
        assert isinstance(substitution.get("wasSubstituted"), bool), \
            f"{where}: does not say whether the medicine was substituted (substitution.wasSubstituted)"
        sent_substituted = sent_substitution.get(_ident(dispense))
        if sent_substituted is not None:
            assert substitution.get("wasSubstituted") == sent_substituted, (
                f"{where}: substitution.wasSubstituted is {substitution.get('wasSubstituted')}, "
                f"but the dispensation sent said {sent_substituted}")
        targets = [resolve(exported, (r or {}).get("reference", "")) for r in dispense.get("authorizingPrescription")
                   or []]
        assert targets and all(t and t.get("resourceType") == "MedicationRequest" for t in targets), \
            f"{where}: authorizingPrescription does not resolve to a MedicationRequest in the document"


@pytest.mark.requirement("ED-002")
@settings(max_examples=examples(10))
@given(data=st.data())
def test_dispensation_resolves_to_its_prescription(hp, new_patient, evidence, data):
    """Procedure: submit prescriptions, then dispensations of them, and export both. Observed: each dispensation's
    authorising prescription and the quantity given. Decides ED-002: a dispensation refers to one of the patient's
    prescriptions and never hands out more than it allows."""
    patient = new_patient()
    prescription = for_patient(data.draw(documents("eprescription"), label="prescription"), patient)
    dispensation = data.draw(documents(CATEGORY, patient, prescription=prescription), label="dispensation")
    prescribed = {_ident(r): r for r in resources(prescription, "MedicationRequest")}
    with example_scope(evidence, "ed-linkage").example(patient=patient.identifier, prescriptions=sorted(prescribed)):
        rx_export = submit_and_export(hp, prescription, patient, "eprescription")
        dispensed = submit_and_export(hp, dispensation, patient, CATEGORY)
        evidence.add("document", dispensed, label="exported eDispensation")
        readable = {_ident(r): r for r in resources(rx_export, "MedicationRequest")}
        for dispense in resources(dispensed, "MedicationDispense"):
            where = f"MedicationDispense {_ident(dispense)}"
            links = dispense.get("authorizingPrescription") or []
            assert links, f"{where}: no authorizingPrescription"
            for link in links:
                request = resolve(dispensed, link.get("reference", ""))
                assert request and request.get("resourceType") == "MedicationRequest", \
                    f"{where}: authorizingPrescription {link.get('reference')!r} does not resolve"
                rx_id = _ident(request)
                assert rx_id in readable, (f"{where}: dispenses prescription {rx_id!r}, which is not among the "
                                           f"patient's prescriptions {sorted(readable)}")
                allowed = ((readable[rx_id].get("dispenseRequest") or {}).get("quantity") or {}).get("value")
                given_out = (dispense.get("quantity") or {}).get("value")
                if allowed is not None and given_out is not None:
                    assert given_out <= allowed, (f"{where}: dispensed {given_out}, more than the {allowed} "
                                                  f"prescribed in {rx_id}")
