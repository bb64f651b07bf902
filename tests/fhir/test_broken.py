"""A deliberately broken IPS document: each defect is reported at the right location with the right rule."""

from __future__ import annotations

import pytest


def _find(issues, location, rule):
    return [i for i in issues if i.is_error and i.location == location and i.rule == rule]


def test_the_intact_copy_is_valid(validator, minimal_bundle):
    assert [i for i in validator.validate(minimal_bundle) if i.is_error] == []


def _break(bundle: dict) -> dict:
    composition = bundle["entry"][0]["resource"]
    patient = bundle["entry"][1]["resource"]
    condition = bundle["entry"][4]["resource"]
    statement = bundle["entry"][5]["resource"]
    del composition["title"]  # cardinality: Composition.title is 1..1
    composition["status"] = "almost-final"  # not in the required value set composition-status
    composition["subject"] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}  # resolves nowhere
    composition["section"][0]["code"]["coding"][0]["code"] = "99999-5"  # well-formed LOINC, not the Problems slice
    patient["favouriteColour"] = "blue"  # not an element of Patient
    statement["effectivePeriod"] = {"start": "2021-01-02", "end": "2020-01-01"}  # per-1 (native invariant)
    condition["abatementDateTime"] = "2021-01-01"  # con-4 (FHIRPath invariant): abated but still active
    return bundle


EXPECTED = [
    ("Bundle.entry[0].resource", "Composition.title", "cardinality"),
    ("Bundle.entry[0].resource.status", "Composition.status", "required binding"),
    ("Bundle.entry[0].resource.subject.reference", "reference.unresolved", "unresolved bundle reference"),
    ("Bundle.entry[0].resource", "Composition.section:sectionProblems", "missing required slice"),
    ("Bundle.entry[1].resource", "structure.unknown-element", "unknown element"),
    ("Bundle.entry[5].resource.effectivePeriod", "per-1", "invariant (native)"),
    ("Bundle.entry[4].resource", "con-4", "invariant (FHIRPath)"),
]


@pytest.mark.parametrize(("location", "rule", "what"), EXPECTED, ids=[e[2] for e in EXPECTED])
def test_each_defect_is_reported_where_it_is(validator, minimal_bundle, location, rule, what):
    issues = validator.validate(_break(minimal_bundle))
    found = _find(issues, location, rule)
    assert found, f"{what}: no error at {location} with rule {rule}; got " + "; ".join(
        f"{i.location} [{i.rule}]" for i in issues if i.is_error)


def test_messages_name_the_problem(validator, minimal_bundle):
    issues = validator.validate(_break(minimal_bundle))
    text = {i.rule: i.message for i in issues if i.is_error}
    assert "favouriteColour" in text["structure.unknown-element"]
    assert "almost-final" in text["Composition.status"]
    assert "minimum required = 1" in text["Composition.title"]
    assert "urn:uuid:00000000-0000-0000-0000-000000000000" in text["reference.unresolved"]


def test_no_errors_beyond_the_defects_and_their_consequences(validator, minimal_bundle):
    issues = validator.validate(_break(minimal_bundle))
    rules = {i.rule for i in issues if i.is_error}
    expected = {rule for _l, rule, _w in EXPECTED}
    # consequences only: the broken Composition and Patient no longer conform to their IPS profiles, so the
    # Bundle's composition/patient slices are unfilled and references to the Patient miss their target profile
    consequences = {"Bundle.entry:composition", "Bundle.entry:patient", "Condition.subject",
                    "MedicationStatement.subject", "AllergyIntolerance.patient", "Composition.subject"}
    assert rules - expected <= consequences, rules - expected


def test_a_bad_slice_member_in_a_closed_slicing(validator):
    """Closed slicing: an element matching no slice is an error at that element, ruled by the sliced element."""
    from conformance.fhir import Validator

    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/StructureDefinition/closed-id",
        "name": "ClosedIdentifiers", "status": "active", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient.identifier", "path": "Patient.identifier",
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed"}},
            {"id": "Patient.identifier:nhs", "path": "Patient.identifier", "sliceName": "nhs", "min": 1, "max": "1"},
            {"id": "Patient.identifier:nhs.system", "path": "Patient.identifier.system", "min": 1,
             "fixedUri": "https://fhir.nhs.uk/Id/nhs-number"},
        ]},
    }
    v = Validator(resources=[profile])
    patient = {"resourceType": "Patient", "identifier": [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
        {"system": "urn:oid:1.2.3", "value": "x"}]}
    issues = v.validate(patient, profiles=[profile["url"]])
    errors = [(i.location, i.rule) for i in issues if i.is_error]
    assert errors == [("Patient.identifier[1]", "Patient.identifier")]
    patient["identifier"].pop(0)
    errors = [(i.location, i.rule) for i in v.validate(patient, profiles=[profile["url"]]) if i.is_error]
    assert ("Patient", "Patient.identifier:nhs") in errors
