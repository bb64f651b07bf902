"""Wrong JSON types in places the terminology and bundle rules read are reported, never crash the validator.

Found by validating randomly mutated IPS documents: a Coding whose `system` is an object, a
CodeableConcept whose `coding` is a number, and duplicated array-valued `fullUrl`s used to raise
TypeError (unhashable / not iterable) out of `validate()`.
"""

from __future__ import annotations

from tests.fhir.conftest import load


def _errors(issues):
    return {(i.location, i.rule) for i in issues if i.is_error}


def test_wrong_json_types_are_reported_where_they_are(validator, minimal_bundle):
    condition = minimal_bundle["entry"][4]["resource"]
    condition["code"]["coding"] = 3.5
    condition["clinicalStatus"]["coding"][0]["system"] = {"x": 1}
    minimal_bundle["entry"][2]["fullUrl"] = ["urn:uuid:same"]
    minimal_bundle["entry"][3]["fullUrl"] = ["urn:uuid:same"]
    errors = _errors(validator.validate(minimal_bundle))
    assert ("Bundle.entry[4].resource.code.coding", "structure.json-array") in errors
    assert ("Bundle.entry[4].resource.clinicalStatus.coding[0].system", "type.uri") in errors
    assert ("Bundle.entry[4].resource.clinicalStatus", "Condition.clinicalStatus") in errors  # not a known code
    assert ("Bundle.entry[2].fullUrl", "structure.json-array") in errors
    assert ("Bundle", "bdl-7") in errors


def test_a_slice_discriminated_by_value_set_with_an_object_as_system(validator):
    """BALP slices AuditEvent.agent by a value set binding on `type`: `memberOf` meets the malformed coding."""
    audit = load("balp-examples/AuditEvent-ex-auditBasicDeleteNoPatient.json")
    audit["agent"][2]["type"]["coding"][0]["system"] = {}
    errors = _errors(validator.validate(audit))
    assert ("AuditEvent.agent[2].type.coding[0].system", "type.uri") in errors


_TEXT = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}


def test_arrays_given_as_numbers_where_the_bundle_narrative_and_reference_rules_read_are_reported(validator):
    """Found by fuzzing: `contained`, a document's `link`, a textLink's `extension`, a Parameters parameter's
    `extension` and a primitive's `_x.extension` given as a number raised TypeError out of `validate()`."""
    cases = [
        {"resourceType": "Patient", "text": _TEXT, "contained": -1, "generalPractitioner": [{"reference": "#x"}]},
        {"resourceType": "Patient", "text": {**_TEXT, "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/textLink", "extension": 5}]}},
        {"resourceType": "Bundle", "type": "document", "link": 5, "entry": [
            {"fullUrl": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "resource": {"resourceType": "Patient"}},
            {"fullUrl": "urn:uuid:1c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "resource": {"resourceType": "Patient"}}]},
        {"resourceType": "Parameters", "parameter": [{"name": "a", "extension": 5, "resource": {
            "resourceType": "Patient", "generalPractitioner": [{"reference": "Practitioner/1"}]}}]},
        {"resourceType": "Patient", "text": _TEXT, "_birthDate": {"extension": 5}},
    ]
    for resource in cases:
        errors = [i for i in validator.validate(resource) if i.is_error]
        assert any(i.rule == "structure.json-array" for i in errors), resource


def test_a_link_id_that_is_no_string_is_reported_not_crashed_on(validator):
    """Found by fuzzing: a Questionnaire or QuestionnaireResponse linkId given as an object raised TypeError
    (unhashable) out of the QuestionnaireResponse rules."""
    q = {"resourceType": "Questionnaire", "id": "q", "status": "active",
         "item": [{"linkId": {"a": 1}, "type": "string", "required": True}, {"linkId": "b", "type": "string"}]}
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": "#q", "contained": [q],
          "item": [{"linkId": {"x": 1}, "answer": [{"valueString": "a"}]}, {"linkId": "b",
                                                                          "answer": [{"valueString": "a"}]}]}
    found = {(i.location, i.rule) for i in validator.validate(qr) if i.is_error}
    assert {("QuestionnaireResponse.contained[0].item[0].linkId", "type.string"),
            ("QuestionnaireResponse.item[0].linkId", "type.string")} <= found
