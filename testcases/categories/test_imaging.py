"""Imaging reports (Art 14(1)(d)): the SUT accepts and exports imaging reports that identify the study.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-imaging-ehds-min
(a minimal stand-in written from HL7 Europe Imaging Report 1.0.0-ballot; set EHDS_CONFORMANCE_PROFILE_IMAGING to
check an official profile instead). IMG-002 (study manifest, DICOM KOS) is not tested: the adapter contract has
no manifest retrieval yet.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from conformance.adapter import Capability
from conformance.documents import for_patient, resolve, resources
from conformance.settings import examples
from conformance.strategies import documents
from ehds_support.categories import export_only

CATEGORY = "imaging"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY)]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


def _study_uids(bundle) -> set[str]:
    return {i.get("value") for s in resources(bundle, "ImagingStudy") for i in s.get("identifier") or []
            if i.get("system") == "urn:dicom:uid"}


@pytest.mark.requirement("IMG-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_imaging_report_identifies_the_study(hp, new_patient, fhir_validator, evidence, document):
    """Procedure: submit a generated imaging report with a known DICOM Study Instance UID, export it. Observed: the
    DiagnosticReport's ImagingStudy references and their identifiers. Decides IMG-001: the report points at its
    study, identified by the same DICOM UID that was sent."""
    patient = new_patient()
    sent_uids = _study_uids(for_patient(document, patient))
    exported = export_only(hp, patient, document, evidence)
    reports = resources(exported, "DiagnosticReport")
    assert reports, "the exported imaging report has no DiagnosticReport"
    for report in reports:
        studies = [resolve(exported, (s or {}).get("reference", "")) for s in report.get("imagingStudy") or []]
        assert studies and all(s and s.get("resourceType") == "ImagingStudy" for s in studies), \
            "the imaging DiagnosticReport does not point at an ImagingStudy in the document"
        uids = {i.get("value") for s in studies for i in s.get("identifier") or [] if i.get("system") == "urn:dicom:uid"}
        assert uids, "the ImagingStudy carries no DICOM Study Instance UID (system urn:dicom:uid)"
        assert sent_uids <= uids, f"the study UID changed: sent {sorted(sent_uids)}, exported {sorted(uids)}"
