"""One error per cause, in document order, with line:column; unloaded target profiles and the extension policy."""

from __future__ import annotations

import copy

import orjson
import pytest

from conformance.fhir import Validator
from conformance.fhir.positions import json_positions, place
from conformance.fhir.settings import Settings
from tests.fhir.conftest import load

BUNDLE = "ips-2.0.0-examples/Bundle-IPS-examples-Bundle-01.json"


def _patient_index(bundle: dict) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Patient")


@pytest.mark.parametrize(("defect", "location", "rule"), [
    (lambda p: p.pop("name"), "resource", "Patient.name"),
    (lambda p: p.update(gender="femalex"), "resource.gender", "Patient.gender"),
    (lambda p: p.update(birthDate="1990-13-45"), "resource.birthDate", "type.date"),
])
def test_planted_defect_first_error_is_the_cause_and_nothing_cascades(validator, defect, location, rule):
    b = copy.deepcopy(load(BUNDLE))
    pi = _patient_index(b)
    defect(b["entry"][pi]["resource"])
    errors = [i for i in validator.validate(b) if i.is_error]
    assert (errors[0].location, errors[0].rule) == (f"Bundle.entry[{pi}].{location}", rule)
    assert len(errors) == 1, [f"{i.location} {i.rule}" for i in errors]  # no 'does not conform' on references


def _entry(bundle: dict, resource_type: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == resource_type)


@pytest.mark.parametrize(("resource_type", "defect", "where", "rule"), [
    ("Composition", lambda r: r.update(status="done"), "resource.status", "Composition.status"),
    ("Condition", lambda r: r["clinicalStatus"]["coding"][0].update(code="gone"),
     "resource.clinicalStatus.coding[0].code", "terminology.unknown-code"),
    ("AllergyIntolerance", lambda r: r.update(severity="high"), "resource", "structure.unknown-element"),
    ("MedicationStatement", lambda r: r.update(subject={"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"}),
     "resource.subject.reference", "reference.unresolved"),
    ("Patient", lambda r: r["telecom"][0].update(system="pager2"), "resource.telecom[0].system", "ContactPoint.system"),
])
def test_planted_defects_across_the_document_give_one_error_at_the_cause(validator, resource_type, defect, where,
                                                                          rule):
    b = copy.deepcopy(load(BUNDLE))
    i = _entry(b, resource_type)
    defect(b["entry"][i]["resource"])
    errors = [(e.location, e.rule) for e in validator.validate(b) if e.is_error]
    assert errors == [(f"Bundle.entry[{i}].{where}", rule)]


def test_json_issues_carry_line_and_column(validator):
    b = load(BUNDLE)
    pi = _patient_index(b)
    b["entry"][pi]["resource"]["gender"] = "femalex"
    text = orjson.dumps(b, option=orjson.OPT_INDENT_2)
    issues = validator.validate_json(text)
    err = next(i for i in issues if i.is_error)
    line = text.decode().splitlines()[err.line - 1]
    assert line[err.column - 1:].startswith('"gender": "femalex"')
    assert all(i.line > 0 and i.column > 0 for i in issues)


def test_issues_are_sorted_by_severity_then_document_order(validator):
    b = copy.deepcopy(load(BUNDLE))
    b["entry"][-1]["resource"]["foo"] = "nonsense"  # walked after the Bundle's own rules? listed last anyway
    b["entry"][1]["resource"]["id"] = "bad id!"
    errors = [i for i in validator.validate(b) if i.is_error]
    assert [(i.location, i.rule) for i in errors] == [("Bundle.entry[1].resource.id", "type.id"), (
        f"Bundle.entry[{len(b['entry']) - 1}].resource", "structure.unknown-element")]


def test_max_issues_keeps_the_most_severe(validator):
    b = copy.deepcopy(load(BUNDLE))
    b["entry"][1]["resource"]["id"] = "bad id!"
    issues = validator.validate(b, settings=Settings(max_issues=1))
    assert len(issues) == 1 and issues[0].is_error


def test_positions_fall_back_to_the_enclosing_element():
    pos = json_positions(b'{\n "resourceType": "Observation",\n "valueQuantity": {"value": 1}\n}')
    assert place("Observation.valueQuantity.value", pos) == (3, 20)
    assert place("Observation.value[x]", pos) == (1, 1)
    assert place("Observation.valueQuantity.code", pos) == (3, 2)


# -- unknown profiles and extensions -----------------------------------------------------------------
def _obs_with_subject_profile(target: str) -> tuple[dict, dict]:
    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/obs-subj",
        "name": "ObsSubj", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Observation.subject", "path": "Observation.subject",
             "type": [{"code": "Reference", "targetProfile": [target]}]}]}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://x.org/fhir/Observation/1", "resource": {
            "resourceType": "Observation", "id": "1", "status": "final", "meta": {"profile": [profile["url"]]},
            "code": {"text": "x"}, "subject": {"reference": "Patient/p"}}},
        {"fullUrl": "http://x.org/fhir/Patient/p", "resource": {"resourceType": "Patient", "id": "p"}}]}
    return profile, bundle


def test_unloaded_target_profile_is_a_warning_never_a_type_error():
    profile, bundle = _obs_with_subject_profile("http://example.org/fhir/StructureDefinition/us-core-patient")
    v = Validator(resources=[profile], include_user_packages=False)
    issues = v.validate(bundle)
    assert not [i for i in issues if i.is_error]
    assert any(i.severity == "warning" and "profile not loaded" in i.message
               and i.location == "Bundle.entry[0].resource.subject" for i in issues)


def test_loaded_target_profile_of_another_type_is_still_an_error():
    profile, bundle = _obs_with_subject_profile("http://hl7.org/fhir/StructureDefinition/Group")
    v = Validator(resources=[profile], include_user_packages=False)
    assert any(i.rule == "reference.target-type" for i in v.validate(bundle) if i.is_error)


def _patient_with_extension(url: str) -> dict:
    return {"resourceType": "Patient", "extension": [{"url": url, "valueString": "x"}]}


@pytest.mark.parametrize(("url", "settings", "error"), [
    ("http://vendor.example.net/ext/a", Settings(), True),
    ("http://vendor.example.net/ext/a", Settings(extension_domains=("http://vendor.example.net/",)), False),
    ("http://vendor.example.net/ext/a", Settings(any_extension=True), False),
    ("http://example.org/fhir/StructureDefinition/x", Settings(), False),
    ("http://example.org/fhir/StructureDefinition/x", Settings(allow_examples=False), True),
])
def test_unknown_extension_policy(validator, url, settings, error):
    issues = validator.validate(_patient_with_extension(url), settings=settings)
    assert any(i.is_error and i.rule.startswith("extension.") for i in issues) is error
    if not error:
        assert any(i.rule == "extension.unknown" and i.severity == "warning" for i in issues)


@pytest.mark.parametrize(("url", "severity", "hint"), [
    # defined by the HL7 extensions pack, which is not loaded: real, only not checked
    ("http://hl7.org/fhir/StructureDefinition/organization-brand", "warning", "not checked"),
    ("http://hl7.org/fhir/StructureDefinition/obligations-profile|5.1.0", "warning", "not checked"),
    # neither R4 core nor the pack defines it: unknown to the reference validator too
    ("http://hl7.org/fhir/StructureDefinition/obligation-profile", "error", "check the URL's spelling"),
    # a known extension but for letter case: the hint names it
    ("http://hl7.org/fhir/StructureDefinition/NarrativeLink", "error",
     "did you mean http://hl7.org/fhir/StructureDefinition/narrativeLink?"),
])
def test_hl7_extensions_outside_core_are_told_apart_by_the_extensions_pack(validator, url, severity, hint):
    issues = [i for i in validator.validate(_patient_with_extension(url)) if i.rule == "extension.unknown"]
    assert [(i.severity, i.location) for i in issues] == [(severity, "Patient.extension[0]")]
    assert hint in issues[0].message and "hl7.fhir.uv.extensions.r4#" in issues[0].message


def test_example_url_extension_is_reported_on_its_url(validator):
    issues = validator.validate(_patient_with_extension("http://example.org/fhir/StructureDefinition/x"),
                                settings=Settings(allow_examples=False))
    assert {(i.location, i.rule) for i in issues if i.is_error} == {
        ("Patient.extension[0]", "extension.unknown"), ("Patient.extension[0].url", "extension.example-url")}


def test_a_repeated_json_property_is_an_error_at_the_copy(validator):
    """orjson (like most readers) keeps the last copy of a repeated key without a word; the reference validator
    reports it. The error points at the copy; a string holding an escaped quote and a colon is not a key."""
    text = (b'{"resourceType": "Patient",\n "gender": "male",\n "name": [{"text": "a\\": b", "given": ["x"],\n'
            b'  "given": ["y"]}],\n "gender": "female"}')
    found = sorted((i.location, i.rule, i.line, i.column) for i in validator.validate_json(text) if i.is_error)
    assert found == [("Patient.gender", "json.duplicate-property", 5, 2),
                     ("Patient.name[0].given", "json.duplicate-property", 4, 3)]
    assert not [i for i in validator.validate_json(text.replace(b'"gender": "female"', b'"active": true'))
                if i.rule == "json.duplicate-property" and i.location == "Patient.gender"]
