"""Annex II 2.1 (PDQm / MHD shape): patients are found by identifier, documents by patient and type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import fhirmap
from conformance.adapter import PRIORITY_CATEGORIES, Capability, NotFound
from ehds_support.flow import submit_declared
from ehds_support.model import composition


@pytest.mark.requirement("EHDS-INT-002")
def test_patient_is_found_by_identifier(sut, accounts, new_patient, documents, evidence):
    """Procedure: file a patient summary for a fresh patient as the health professional, look the patient up by
    identifier, then look up the identifier of another fresh patient never filed and the same value under another
    identifier system (urn:oid:2.999.9.9). Observed: the patient id returned, and NotFound for both unknowns.
    Decides EHDS-INT-002: the lookup must return the id the document was filed under, and an unknown identifier
    must match nobody (the adapter's NotFound stands for the empty result; an HTTP-level empty Bundle versus
    error is not told apart here)."""
    hp = sut.login(accounts.hp)
    patient, stranger = new_patient(), new_patient()
    receipt = hp.submit(documents.valid("patient-summary", patient))
    found = hp.find_patient(patient.identifier)
    assert found == receipt.patient_id, (f"looking up {patient.identifier} gave {found!r}, "
                                         f"the document was filed under {receipt.patient_id!r}")
    namesake = f"urn:oid:2.999.9.9|{patient.value}"  # same value, another identifier system
    for unknown in (stranger.identifier, namesake):
        try:
            other = hp.find_patient(unknown)
        except NotFound:
            continue
        raise AssertionError(f"an identifier nobody has ({unknown}) matched patient {other!r}"
                             + (" (the identifier system was ignored)" if unknown == namesake else ""))
    evidence.note("unknown identifiers, including the same value in another system, answer 'not found'")


@pytest.mark.requirement("EHDS-INT-003")
@pytest.mark.capability(Capability.SUBMIT)
@given(chosen=st.sets(st.sampled_from(PRIORITY_CATEGORIES), min_size=1, max_size=3))
def test_documents_are_discoverable_by_patient_and_type(sut, sut_description, accounts, new_patient, documents,
                                                        evidence, chosen):
    """Procedure: one document per drawn category for a fresh patient; list all, then by each type.
    Observed: every document is listed, a search by type returns it and only that type, each entry names
    the patient, the document's own date and its custodian (the organisation of Composition.custodian, as
    system|value; an adapter that reports none leaves the entry without one). Decides EHDS-INT-003 because
    documents must be discoverable by patient and type, each entry naming subject, date and custodian."""
    categories = sorted(chosen & set(sut_description.consumes) or {"patient-summary"})
    hp = sut.login(accounts.hp)
    patient = new_patient()
    sent = {c: documents.valid(c, patient) for c in categories}
    filed = {c: submit_declared(hp, sent[c], c).document_id for c in categories}
    pid = hp.find_patient(patient.identifier)
    everything = {d.document_id: d for d in hp.list_documents(pid)}
    assert set(filed.values()) <= set(everything), (
        f"documents {sorted(set(filed.values()) - set(everything))} are missing from the patient's listing")
    for category, doc_id in filed.items():
        listed = hp.list_documents(pid, category)
        ids = {d.document_id for d in listed}
        assert doc_id in ids, f"the {category} document is not found when searching by type {category}"
        wrong = [d for d in listed if d.category != category]
        assert not wrong, f"searching by type {category} also returned {[d.category for d in wrong]}"
        assert all(d.patient_id == pid for d in listed), "a search by patient returned another patient's document"
        date = str(composition(sent[category]).get("date", ""))
        entry = next(d for d in listed if d.document_id == doc_id)
        assert entry.date and entry.date[:10] == date[:10], (
            f"the listing gives the {category} document the date {entry.date!r}; the document's date is {date!r}")
        custodian = fhirmap.document_custodian(sent[category])
        assert custodian, "harness error: the submitted document names no custodian"
        assert entry.custodian == custodian, (
            f"the listing names no custodian for the {category} document; it came from {custodian}"
            if entry.custodian is None else
            f"the listing names {entry.custodian} as the custodian of the {category} document; it came from "
            f"{custodian}")
    evidence.note(f"discovered by type: {categories}")
