"""Imaging reports (Art 14(1)(d)): the SUT accepts and exports imaging reports that identify the study.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-imaging-ehds-min
(a minimal stand-in written from HL7 Europe Imaging Report 1.0.0-ballot; set EHDS_CONFORMANCE_PROFILE_IMAGING to
check an official profile instead). IMG-002 (study manifest, DICOM KOS) is not tested: the adapter contract has
no manifest retrieval yet.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability
from conformance.documents import for_patient, resolve, resources
from conformance.settings import examples
from conformance.strategies import MUTATION_KINDS, documents, mutations
from conformance.strategies.category_checks import (
    export_conforms,
    invalid_is_rejected,
    require_category,
    round_trip_keeps_meaning,
)

CATEGORY = "imaging"
pytestmark = pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT)


@pytest.fixture
def hp(sut, accounts, sut_description):
    require_category(sut_description, CATEGORY)
    return sut.login(accounts.hp)


def _study_uids(bundle) -> set[str]:
    return {i.get("value") for s in resources(bundle, "ImagingStudy") for i in s.get("identifier") or []
            if i.get("system") == "urn:dicom:uid"}


@pytest.mark.requirement("EHDS-INT-005", "IMG-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_imaging_report_conforms_and_identifies_the_study(hp, new_patient, fhir_validator, evidence, document):
    patient = new_patient()
    sent_uids = _study_uids(for_patient(document, patient))
    exported = export_conforms(hp=hp, patient=patient, document=document, category=CATEGORY,
                               validator=fhir_validator, evidence=evidence, prop="img-export-conforms")
    reports = resources(exported, "DiagnosticReport")
    assert reports, "the exported imaging report has no DiagnosticReport"
    for report in reports:
        studies = [resolve(exported, (s or {}).get("reference", "")) for s in report.get("imagingStudy") or []]
        assert studies and all(s and s.get("resourceType") == "ImagingStudy" for s in studies), \
            "the imaging DiagnosticReport does not point at an ImagingStudy in the document"
        uids = {i.get("value") for s in studies for i in s.get("identifier") or [] if i.get("system") == "urn:dicom:uid"}
        assert uids, "the ImagingStudy carries no DICOM Study Instance UID (system urn:dicom:uid)"
        assert sent_uids <= uids, f"the study UID changed: sent {sorted(sent_uids)}, exported {sorted(uids)}"


@pytest.mark.requirement("EHDS-INT-008")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_imaging_report_round_trip_keeps_meaning(hp, new_patient, evidence, document):
    round_trip_keeps_meaning(hp=hp, patient=new_patient(), document=document, category=CATEGORY, evidence=evidence,
                             prop="img-round-trip")


@pytest.mark.requirement("EHDS-INT-012")
@pytest.mark.parametrize("kind", MUTATION_KINDS)
@settings(max_examples=examples(5))
@given(data=st.data())
def test_invalid_imaging_report_is_rejected(hp, new_patient, fhir_validator, evidence, kind, data):
    patient = new_patient()
    document = for_patient(data.draw(documents(CATEGORY), label="document"), patient)
    mutation = data.draw(mutations(document, kinds=kind, validator=fhir_validator), label="mutation")
    invalid_is_rejected(hp=hp, patient=patient, mutation=mutation, category=CATEGORY, evidence=evidence,
                        prop=f"img-invalid-{kind}")
