"""MyHealth@EU (eHDSI) CDA: what a system feeding a national contact point must get right.

A national contact point exchanges eHDSI "pivot" CDA documents (patient summary, ePrescription,
eDispensation). A system that declares CDA support must accept a valid eHDSI patient summary,
refuse documents that break the eHDSI XML Schema or Schematron (saying why, storing nothing),
refuse hostile XML without reading anything outside it, and export CDA that validates.
Validity is judged by conformance.cda (eHDSI schema + Schematron, offline).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.adapter import Capability, NotFound, Rejected
from conformance.cda import cda_in_bundle, validate_document
from conformance.cda.documents import broken_patient_summary, ehdsi_patient_summary
from conformance.errors import HarnessError

CATEGORY = "patient-summary"


def _valid_ps(patient: Any) -> bytes:
    data = ehdsi_patient_summary(patient)
    errors = [i for i in validate_document(data) if i.is_error]
    if errors:  # our own fixture is wrong: that is the harness's fault, not the SUT's
        raise HarnessError(f"the generated eHDSI patient summary does not validate: {errors[0].message}")
    return data


def _assert_nothing_stored(session: Any, patient: Any) -> None:
    try:
        patient_id = session.find_patient(patient.identifier)
    except NotFound:
        return
    listed = session.list_documents(patient_id)
    assert not listed, (
        f"the rejected document's patient {patient.identifier} exists with {len(listed)} document(s): "
        "a refused document must leave nothing stored")


@pytest.mark.requirement("XB-002")
@pytest.mark.capability(Capability.CDA, Capability.SUBMIT)
def test_valid_ehdsi_patient_summary_is_accepted(sut, accounts, new_patient, evidence):
    """Procedure: submit a valid eHDSI pivot CDA patient summary (schema and Schematron valid) for a fresh patient.
    Observed: the receipt and the patient's documents. Decides XB-002: a valid pivot CDA from the national contact
    point is accepted and filed for its patient."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    data = _valid_ps(patient)
    evidence.note(f"sent a valid eHDSI patient summary (CDA, {len(data)} bytes) for {patient.identifier}")
    try:
        receipt = hp.submit(data)
    except Rejected as exc:
        raise AssertionError(f"a valid eHDSI patient summary was rejected: {exc.reason}") from None
    assert hp.find_patient(patient.identifier) == receipt.patient_id, (
        "the accepted document is not filed under the patient named in recordTarget/patientRole/id")
    listed = {d.document_id for d in hp.list_documents(receipt.patient_id, CATEGORY)}
    assert receipt.document_id in listed, "the accepted CDA document is not listed as the patient's summary"


@pytest.mark.requirement("XB-003", "EHDS-INT-012")
@pytest.mark.capability(Capability.CDA, Capability.SUBMIT)
@pytest.mark.parametrize("kind", ["schema-invalid", "schematron-invalid", "not-well-formed"])
def test_invalid_ehdsi_cda_is_rejected_with_a_reason_and_nothing_stored(kind, sut, accounts, new_patient, evidence):
    """Procedure: submit eHDSI CDA documents each broken in one way (schema, Schematron, not well-formed). Observed:
    the answer and the patient's documents afterwards. Decides XB-003 and EHDS-INT-012: invalid CDA is refused with
    a reason and nothing of it is kept."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    broken = broken_patient_summary(patient, kind)
    issues = validate_document(broken.data)
    if broken.expected_rule not in {i.rule for i in issues if i.is_error}:
        raise HarnessError(f"the {kind} document is not flagged by our validator as expected ({broken.expected_rule})")
    evidence.note(f"sent an eHDSI patient summary with {broken.what}")
    evidence.validation(issues)
    with pytest.raises(Rejected) as answer:
        hp.submit(broken.data)
    assert answer.value.reason.strip(), "the SUT rejected the document but gave no reason"
    evidence.note(f"SUT's reason: {answer.value.reason[:500]}")
    _assert_nothing_stored(hp, patient)


@pytest.mark.requirement("XB-004", "EHDS-INT-012")
@pytest.mark.capability(Capability.CDA, Capability.SUBMIT)
@pytest.mark.parametrize("kind", ["xxe", "billion-laughs", "external-dtd", "bare-doctype"])
def test_hostile_xml_is_refused_and_nothing_stored(kind, sut, accounts, new_patient, evidence):
    """Procedure: submit as CDA a valid patient summary carrying a DTD: an external entity (XXE), nested entity
    expansion (billion laughs), a reference to an external DTD without any entity declared, or an empty internal
    DTD. Observed: the answer and the patient's documents afterwards. Decides XB-004 and EHDS-INT-012: a document
    with a DTD is refused with a reason, without fetching or expanding anything, and nothing is stored."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    hostile = broken_patient_summary(patient, kind)
    evidence.note(f"sent an eHDSI patient summary carrying {hostile.what}")
    try:
        receipt = hp.submit(hostile.data)
    except Rejected as exc:
        evidence.note(f"SUT's reason: {exc.reason[:500]}")
        assert exc.reason.strip(), "the SUT refused the hostile document but gave no reason"
        _assert_nothing_stored(hp, patient)
        return
    raise AssertionError(
        f"the SUT accepted a document with a DTD ({hostile.what}) as {receipt.document_id}: "
        "CDA never needs a DTD, and entity declarations enable XXE and entity-expansion attacks")


@pytest.mark.requirement("XB-005")
@pytest.mark.capability(Capability.CDA, Capability.SUBMIT, Capability.EXPORT)
def test_exported_cda_validates_against_ehdsi_schema_and_schematron(sut, accounts, new_patient, evidence):
    """Procedure: submit a valid pivot CDA, export the patient's CDA, validate it against the eHDSI XML Schema and
    Schematron. Observed: the validation issues. Decides XB-005: what the system sends towards the national contact
    point validates."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = hp.submit(_valid_ps(patient))
    bundle = hp.fetch(receipt.patient_id, CATEGORY, document_id=receipt.document_id)
    payloads = cda_in_bundle(bundle)
    evidence.note(f"export of document {receipt.document_id} carries {len(payloads)} CDA document(s)")
    assert payloads, ("the SUT declares CDA but its export of an eHDSI patient summary carries no CDA document "
                      "(no Binary or DocumentReference attachment with a ClinicalDocument)")
    for n, data in enumerate(payloads, 1):
        issues = validate_document(data)
        evidence.validation(issues)
        errors = [i for i in issues if i.is_error]
        assert not errors, (f"exported CDA document {n} fails eHDSI validation: {len(errors)} error(s), first at "
                            f"{errors[0].location}: {errors[0].message}")
