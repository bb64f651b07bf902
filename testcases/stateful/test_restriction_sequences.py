"""Art 8 / Art 11(5) over random sequences: the patient restricts, lifts and re-restricts documents and
categories while documents keep arriving (batches past a page of 20 or 50), professionals of two
organisations search and fetch by id, and emergency access is asked with purposes worded many ways or blank.

Each check runs the restriction machine (ehds_support.areas) once per run and fails only for its own
requirement, with the shrunk sequence and the command that replays it (ehds_support.stateful)."""

from __future__ import annotations

import pytest

from conformance.adapter import Capability
from ehds_support.stateful import certify

AREA = "restriction"


@pytest.mark.requirement("EHDS-SEC-007")
@pytest.mark.capability(Capability.RESTRICTION)
@pytest.mark.capability(Capability.PATIENT_ACCESS)
def test_restrictions_hold_through_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the restriction machine
    and compares it with the model after every step. Observed: after every step no restricted document is
    listed or served to either organisation (a restricted id answers NotFound, never Denied), no listing or
    export hints at a restriction, and a lifted restriction shows the documents again. Decides EHDS-SEC-007
    because restricted data must be withheld from professionals without revealing it."""
    certify(request, AREA, "EHDS-SEC-007", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-SEC-008")
@pytest.mark.capability(Capability.RESTRICTION)
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
def test_emergency_access_needs_a_stated_purpose_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the restriction machine
    and compares it with the model after every step. Observed: emergency access with a blank purpose (any
    Unicode whitespace) is refused; with a stated purpose in any wording, case or language it serves the
    requested document, restricted or not. Decides EHDS-SEC-008 because restricted data may be opened only
    with a stated vital-interest purpose."""
    certify(request, AREA, "EHDS-SEC-008", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-012")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
def test_emergency_access_is_logged_with_its_purpose_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the restriction machine
    and compares it with the model after every step. Observed: each granted emergency access adds entries
    flagged BTG/ETREAT that carry the stated purpose; ordinary accesses are never flagged. Decides EHDS-
    LOG-012 because an emergency access must be recorded as such, with its purpose."""
    certify(request, AREA, "EHDS-LOG-012", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-INT-003")
@pytest.mark.capability(Capability.SUBMIT)
def test_discovery_lists_exactly_the_visible_documents_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the restriction machine
    and compares it with the model after every step. Observed: every listing (all, or by type) holds each
    document visible to professionals exactly once, only of that patient and type, with the document's date
    and its custodian (the organisation the document came from, Composition.custodian, as system|value; an
    entry naming none, or another organisation such as the reader's, is a violation). Decides EHDS-INT-003
    because documents must be discoverable by patient and type, each entry naming subject, date and
    custodian."""
    certify(request, AREA, "EHDS-INT-003", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-INT-004")
@pytest.mark.capability(Capability.SUBMIT)
@pytest.mark.capability(Capability.EXPORT)
def test_retrieval_returns_the_document_asked_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the restriction machine
    and compares it with the model after every step. Observed: fetching a visible document by id returns
    that very document (by Composition.identifier) as a document Bundle about the patient; fetching by type
    returns the latest visible one (the newest document date, the later received on a tie: the contract's one
    definition, so in process and over HTTP agree). Decides EHDS-INT-004 because following a discovered
    document returns the document itself."""
    certify(request, AREA, "EHDS-INT-004", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)
