"""Unit tests of the seeded document builders (conformance.documents).

Profile validation of the same documents is in test_documents_validate.py (needs the FHIR engine).
"""

from __future__ import annotations

import random

import pytest

from conformance.documents import (
    CATEGORY_PROFILES,
    CATEGORY_TYPES,
    PatientIdentity,
    composition,
    new_patient_identity,
    resolve,
    resources,
    valid_document,
)
from conformance.errors import UsageError


def _references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


@pytest.fixture
def patient() -> PatientIdentity:
    return new_patient_identity(7, namespace="unit")


@pytest.mark.parametrize("category", sorted(CATEGORY_PROFILES))
@pytest.mark.parametrize("seed", range(5))
def test_document_frame(category: str, seed: int, patient: PatientIdentity) -> None:
    bundle = valid_document(category, patient, seed=seed)
    assert bundle["type"] == "document"
    assert bundle["meta"]["profile"] == [CATEGORY_PROFILES[category]]
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    comp = composition(bundle)
    assert comp["type"]["coding"][0]["code"] == CATEGORY_TYPES[category][0]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls)), "fullUrls must be unique (bdl-7)"
    for reference in _references(bundle):
        assert resolve(bundle, reference) is not None, f"dangling reference {reference}"
    (pat,) = resources(bundle, "Patient")
    assert pat["identifier"][0] == {"system": patient.system, "value": patient.value}
    assert resolve(bundle, comp["subject"]["reference"]) is pat
    for section in comp["section"]:
        assert section["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        narrative_only = section["code"]["coding"][0]["code"] in ("8648-8", "19005-8")
        assert narrative_only or (("entry" in section) != ("emptyReason" in section))


@pytest.mark.parametrize("category", sorted(CATEGORY_PROFILES))
def test_same_seed_same_document(category: str, patient: PatientIdentity) -> None:
    assert valid_document(category, patient, seed=3) == valid_document(category, patient, seed=3)
    other = new_patient_identity(8, namespace="unit")
    a, b = valid_document(category, patient, seed=3), valid_document(category, other, seed=3)
    assert not {e["fullUrl"] for e in a["entry"]} & {e["fullUrl"] for e in b["entry"]}, \
        "two patients' documents must not share resource ids"


def test_seeds_vary_content(patient: PatientIdentity) -> None:
    seen = {str(valid_document("patient-summary", patient, seed=s)["entry"][1:]) for s in range(10)}
    assert len(seen) > 5


def test_patient_summary_required_sections(patient: PatientIdentity) -> None:
    empty_seen = full_seen = False
    for seed in range(30):
        comp = composition(valid_document("patient-summary", patient, seed=seed))
        codes = {s["code"]["coding"][0]["code"]: s for s in comp["section"]}
        assert {"48765-2", "11450-4", "10160-0", "47519-4", "46264-8"} <= set(codes)
        for section in codes.values():
            # ips-comp-1: entries or an explicit emptyReason, never both (cmp-2)
            assert bool(section.get("entry")) != bool(section.get("emptyReason"))
            empty_seen |= "emptyReason" in section
            full_seen |= "entry" in section
    assert empty_seen and full_seen


def test_patient_summary_forced_empty(patient: PatientIdentity) -> None:
    comp = composition(valid_document("patient-summary", patient, ps_counts={"allergies": 0, "problems": 2,
                                                                               "medications": 1}))
    by_code = {s["code"]["coding"][0]["code"]: s for s in comp["section"]}
    assert by_code["48765-2"]["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert len(by_code["11450-4"]["entry"]) == 2
    assert len(by_code["10160-0"]["entry"]) == 1


def test_dispensation_links_to_given_prescription(patient: PatientIdentity) -> None:
    rx = valid_document("eprescription", patient, seed=1)
    rx_ids = {r["identifier"][0]["value"]: r for r in resources(rx, "MedicationRequest")}
    disp = valid_document("edispensation", patient, seed=1, prescription=rx)
    (dispense,) = resources(disp, "MedicationDispense")
    request = resolve(disp, dispense["authorizingPrescription"][0]["reference"])
    assert request["resourceType"] == "MedicationRequest"
    original = rx_ids[request["identifier"][0]["value"]]
    assert dispense["quantity"]["value"] <= original["dispenseRequest"]["quantity"]["value"]


def test_lab_alignment(patient: PatientIdentity) -> None:
    for seed in range(10):
        bundle = valid_document("laboratory", patient, seed=seed)
        (comp,) = resources(bundle, "Composition")
        (report,) = resources(bundle, "DiagnosticReport")
        assert report["subject"] == comp["subject"]
        assert report["identifier"][0] == comp["identifier"]
        assert report["code"] == comp["type"]
        listed = [e["reference"] for s in comp["section"] for e in s.get("entry", [])]
        assert [r["reference"] for r in report["result"]] == listed


def test_imaging_and_discharge_links(patient: PatientIdentity) -> None:
    img = valid_document("imaging", patient, seed=2)
    (report,) = resources(img, "DiagnosticReport")
    study = resolve(img, report["imagingStudy"][0]["reference"])
    assert study["identifier"][0]["system"] == "urn:dicom:uid"
    assert study["identifier"][0]["value"].startswith("urn:oid:2.25.")
    hdr = valid_document("discharge", patient, seed=2)
    comp = composition(hdr)
    assert resolve(hdr, comp["encounter"]["reference"])["resourceType"] == "Encounter"


def test_patient_identity_factory() -> None:
    assert new_patient_identity(1, namespace="a") == new_patient_identity(1, namespace="a")
    assert new_patient_identity(1, namespace="a") != new_patient_identity(1, namespace="b")
    assert new_patient_identity(random.Random(5)) == new_patient_identity(random.Random(5))
    assert new_patient_identity().identifier != new_patient_identity().identifier
    assert new_patient_identity(2, family="Doe").family == "Doe"
    with pytest.raises(UsageError, match="system\\|value"):
        new_patient_identity(2, identifier="nobar")
    with pytest.raises(UsageError, match="unknown field"):
        new_patient_identity(2, surname="x")
    with pytest.raises(UsageError):
        new_patient_identity("3")  # type: ignore[arg-type]


def test_unknown_category_hint(patient: PatientIdentity) -> None:
    with pytest.raises(UsageError, match="Did you mean 'laboratory'"):
        valid_document("laboratry", patient)
