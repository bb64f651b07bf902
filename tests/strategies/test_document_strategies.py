"""conformance.strategies.documents / patients and the re-keying helpers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.documents import (
    CATEGORY_PROFILES,
    composition,
    for_patient,
    new_patient_identity,
    profile_for,
    resolve,
    resources,
    valid_document,
)
from conformance.errors import UsageError
from conformance.strategies import documents, patients


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


@pytest.mark.parametrize("category", sorted(CATEGORY_PROFILES))
def test_drawn_documents_are_self_contained(category: str) -> None:
    @settings(max_examples=25, derandomize=True, database=None, deadline=None)
    @given(documents(category))
    def prop(bundle):
        assert composition(bundle)["type"]["coding"][0]["code"]
        urls = [e["fullUrl"] for e in bundle["entry"]]
        assert len(urls) == len(set(urls))
        for reference in _references(bundle):
            assert resolve(bundle, reference) is not None, reference

    prop()


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_distinct_content_distinct_ids(data) -> None:
    a = data.draw(documents("laboratory"))
    b = data.draw(documents("laboratory"))
    if a != b:
        assert not {e["fullUrl"] for e in a["entry"]} & {e["fullUrl"] for e in b["entry"]}


@settings(max_examples=20, derandomize=True, database=None, deadline=None)
@given(documents("patient-summary"), patients())
def test_for_patient_rebinds(bundle, patient) -> None:
    bound = for_patient(bundle, patient)
    (pat,) = resources(bound, "Patient")
    assert pat["identifier"][0] == {"system": patient.system, "value": patient.value}
    assert pat["birthDate"] == patient.birth_date
    assert resolve(bound, composition(bound)["subject"]["reference"]) is pat
    assert not {e["fullUrl"] for e in bound["entry"]} & {e["fullUrl"] for e in bundle["entry"]}
    assert for_patient(bundle, patient) == bound  # deterministic


def test_fixed_patient_and_counts() -> None:
    patient = new_patient_identity(3, namespace="x")

    @settings(max_examples=10, derandomize=True, database=None, deadline=None)
    @given(documents("patient-summary", patient, ps_counts={"allergies": 0}))
    def prop(bundle):
        (pat,) = resources(bundle, "Patient")
        assert pat["identifier"][0]["value"] == patient.value
        allergies = [s for s in composition(bundle)["section"] if s["code"]["coding"][0]["code"] == "48765-2"]
        assert allergies[0]["emptyReason"]

    prop()


def test_dispensation_against_given_prescription() -> None:
    patient = new_patient_identity(4, namespace="x")
    rx = valid_document("eprescription", patient, seed=2)
    rx_ids = {r["identifier"][0]["value"] for r in resources(rx, "MedicationRequest")}

    @settings(max_examples=10, derandomize=True, database=None, deadline=None)
    @given(documents("edispensation", patient, prescription=rx))
    def prop(bundle):
        (dispense,) = resources(bundle, "MedicationDispense")
        request = resolve(bundle, dispense["authorizingPrescription"][0]["reference"])
        # prescription identifiers are business ids: re-keying keeps them, so the link survives
        assert request["identifier"][0]["value"] in rx_ids

    prop()


def test_profile_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert profile_for("laboratory") == CATEGORY_PROFILES["laboratory"]
    monkeypatch.setenv("EHDS_CONFORMANCE_PROFILE_LABORATORY", "http://hl7.eu/fhir/laboratory/StructureDefinition/x")
    assert profile_for("laboratory").endswith("/x")
    with pytest.raises(UsageError):
        profile_for("lab")
