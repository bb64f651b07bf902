"""A Reference's `type` must be an allowed target type and the type of what it points to; inside a Bundle a
relative reference is `Type/id` (or with `_history`). As the reference validator checks them."""

from __future__ import annotations

import pytest

_TEXT = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}


def _errors(validator, resource: dict) -> list[tuple[str, str]]:
    return [(i.location, i.rule) for i in validator.validate(resource) if i.is_error]


@pytest.mark.parametrize(("reference", "expected"), [
    ({"reference": "Practitioner/1", "type": "Practitioner"}, []),
    ({"type": "Organization", "identifier": {"value": "123"}}, []),
    ({"type": "Device", "identifier": {"value": "123"}}, ["reference.declared-type"]),  # not an allowed target
    ({"reference": "Practitioner/1", "type": "practitioner"}, ["reference.declared-type"]),  # no such type
    ({"reference": "Practitioner/1", "type": "Organization"}, ["reference.declared-type"]),  # not what it names
])
def test_reference_type_is_an_allowed_type_and_the_type_of_the_target(validator, reference, expected):
    patient = {"resourceType": "Patient", "text": _TEXT, "generalPractitioner": [reference]}
    assert [rule for loc, rule in _errors(validator, patient) if loc == "Patient.generalPractitioner[0]"] == expected


def test_reference_type_is_the_type_of_the_bundle_entry_it_resolves_to(validator):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:3f7d3c2e-5a4b-4f6e-9a1d-2b8c7e6f5a41", "resource": {
            "resourceType": "Patient", "text": _TEXT, "generalPractitioner": [
                {"reference": "urn:uuid:9b2e4c1d-7f3a-4d5e-8c6b-1a2f3e4d5c6b", "type": "Organization"}]}},
        {"fullUrl": "urn:uuid:9b2e4c1d-7f3a-4d5e-8c6b-1a2f3e4d5c6b",
         "resource": {"resourceType": "Practitioner", "text": _TEXT}}]}
    assert ("Bundle.entry[0].resource.generalPractitioner[0]", "reference.declared-type") in _errors(validator, bundle)


@pytest.mark.parametrize(("ref", "error"), [("Practitioner/2", False), ("Practitioner/2/_history/1", False),
                                            ("prac-2", True), ("fhir/Practitioner/2", True),
                                            ("http://x.org/fhir/Practitioner/2", False)])
def test_a_relative_reference_in_a_bundle_is_type_and_id(validator, ref, error):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://x.org/fhir/Patient/1", "resource": {
            "resourceType": "Patient", "id": "1", "text": _TEXT, "generalPractitioner": [{"reference": ref}]}},
        {"fullUrl": "http://x.org/fhir/Practitioner/2",
         "resource": {"resourceType": "Practitioner", "id": "2", "text": _TEXT}}]}
    found = [rule for loc, rule in _errors(validator, bundle) if rule == "reference.format"]
    assert found == (["reference.format"] if error else [])


def test_outside_a_bundle_a_relative_reference_is_not_judged_by_its_form(validator):
    patient = {"resourceType": "Patient", "text": _TEXT, "generalPractitioner": [{"reference": "prac-2"}]}
    assert not [r for _l, r in _errors(validator, patient) if r == "reference.format"]


def _aggregating_validator(modes: list[str]):
    from conformance.fhir import Validator

    profile = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/agg",
               "name": "Agg", "status": "active", "kind": "resource", "abstract": False, "type": "Patient",
               "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
               "differential": {"element": [{"id": "Patient.generalPractitioner", "path": "Patient.generalPractitioner",
                                             "type": [{"code": "Reference", "aggregation": modes, "targetProfile": [
                                                 "http://hl7.org/fhir/StructureDefinition/Practitioner"]}]}]}}
    return Validator(resources=[profile], include_user_packages=False)


_PRACTITIONER = {"resourceType": "Practitioner", "id": "p", "text": _TEXT}


@pytest.mark.parametrize(("modes", "where", "error"), [
    (["contained"], "contained", False), (["contained"], "elsewhere", True), (["contained"], "bundled", True),
    (["bundled"], "bundled", False), (["bundled"], "contained", True), (["referenced"], "elsewhere", False),
    (["referenced"], "bundled", False), (["contained", "referenced"], "elsewhere", False),
])
def test_aggregation_modes_say_where_a_reference_may_point(modes, where, error):
    """ElementDefinition.type.aggregation, as the reference validator reads it (upstream res-inv-example-bad):
    contained must resolve to a contained resource, bundled to an entry of the Bundle, referenced to anywhere but
    a contained resource; a reference that resolves nowhere in the instance needs referenced."""
    v = _aggregating_validator(modes)
    patient = {"resourceType": "Patient", "id": "x", "text": _TEXT,
               "meta": {"profile": ["http://example.org/fhir/StructureDefinition/agg"]}}
    if where == "contained":
        patient |= {"contained": [_PRACTITIONER], "generalPractitioner": [{"reference": "#p"}]}
        resource, loc = patient, "Patient.generalPractitioner[0]"
    elif where == "elsewhere":
        patient["generalPractitioner"] = [{"reference": "Practitioner/elsewhere"}]
        resource, loc = patient, "Patient.generalPractitioner[0]"
    else:
        patient["generalPractitioner"] = [{"reference": "Practitioner/p"}]
        resource = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "http://x.org/fhir/Patient/x", "resource": patient},
            {"fullUrl": "http://x.org/fhir/Practitioner/p", "resource": _PRACTITIONER}]}
        loc = "Bundle.entry[0].resource.generalPractitioner[0]"
    found = [i.location for i in v.validate(resource) if i.rule == "reference.aggregation"]
    assert found == ([loc] if error else [])
