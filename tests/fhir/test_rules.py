"""Rule families added for agreement with the reference validator: each test fails when its rule is broken."""

from __future__ import annotations

import pytest


def test_unknown_sub_extension_of_a_complex_extension(validator):
    animal = "http://hl7.org/fhir/StructureDefinition/patient-animal"
    species = {"url": "species", "valueCodeableConcept": {"text": "dog"}}
    good = {"resourceType": "Patient", "extension": [{"url": animal, "extension": [species]}]}
    bad = {"resourceType": "Patient", "extension": [{"url": animal, "extension": [species, {
        "url": "species-x", "valueString": "x"}]}]}
    assert not [i for i in validator.validate(good) if i.is_error]
    assert [(i.location, i.rule) for i in validator.validate(bad) if i.is_error] == [
        ("Patient.extension[0].extension[1]", "extension.sub-extension")]


def _bundle(ref: str, target_type: str) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642",
         "resource": {"resourceType": "Patient", "generalPractitioner": [{"reference": ref}]}},
        {"fullUrl": "urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d",
         "resource": {"resourceType": target_type, "name": [{"text": "X"}] if target_type != "Organization" else "X"}}]}


@pytest.mark.parametrize(("target", "error"), [("Practitioner", False), ("Organization", True)])
def test_relative_reference_from_a_urn_entry_resolves_to_urn_uuid_id(validator, target, error):
    issues = validator.validate(_bundle("Practitioner/5d9588d8-3cd6-4b32-8fb7-ad13694e069d", target))
    found = [(i.location, i.rule) for i in issues if i.is_error]
    assert found == ([("Bundle.entry[0].resource.generalPractitioner[0]", "reference.type-mismatch")] if error else [])


def test_que_12_as_its_human_text_says(validator):
    cond = {"question": "a", "operator": "=", "answerString": "x"}
    q = {"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "a", "type": "string"}, {"linkId": "b", "type": "string", "enableWhen": [cond, cond]}]}
    assert [(i.location, i.rule) for i in validator.validate(q) if i.is_error] == [("Questionnaire.item[1]", "que-12")]
    q["item"][1]["enableBehavior"] = "any"
    assert not [i for i in validator.validate(q) if i.is_error]


@pytest.mark.parametrize(("value", "code", "error"), [(-1, "g", True), (1, "g", False), (11000, "g", True),
                                                      (2, "kg", False), (5, "[mi_i]", False)])
def test_quantity_bounds_convert_ucum_units(value, code, error):
    from conformance.fhir import Validator

    ucum = "http://unitsofmeasure.org"
    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/obs-kg",
        "name": "ObsKg", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Observation.value[x]", "path": "Observation.value[x]", "type": [{"code": "Quantity"}],
             "minValueQuantity": {"value": 0, "system": ucum, "code": "kg"},
             "maxValueQuantity": {"value": 10, "system": ucum, "code": "kg"}}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "w"}, "meta": {"profile": [profile["url"]]},
           "valueQuantity": {"value": value, "system": ucum, "code": code}}
    assert any(i.location == "Observation.valueQuantity" for i in v.validate(obs) if i.is_error) is error
