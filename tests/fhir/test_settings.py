"""The validator settings that change verdicts (best-practice level, fhir_comments, contained profiles)."""

from __future__ import annotations

import pytest

from conformance.fhir import Validator
from conformance.fhir.settings import Settings

PATIENT = {"resourceType": "Patient", "id": "p"}  # no narrative: dom-6, a best-practice invariant


@pytest.mark.parametrize(("level", "severity"), [("warning", "warning"), ("error", "error"), ("hint", "information"),
                                                 ("ignore", None)])
def test_best_practice_level(validator, level, severity):
    found = [i.severity for i in validator.validate(PATIENT, settings=Settings(best_practice=level)) if i.rule == "dom-6"]
    assert found == ([severity] if severity else [])


def test_fhir_comments_are_refused_unless_allowed(validator):
    patient = {**PATIENT, "fhir_comments": ["an R2-era comment"]}
    assert any(i.is_error for i in validator.validate(patient))
    assert not any(i.is_error for i in validator.validate(patient, settings=Settings(allow_comments=True)))


def test_check_contained_applies_the_contained_profile():
    org_profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/named-org",
        "name": "NamedOrg", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Organization", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Organization",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Organization.name", "path": "Organization.name", "min": 1}]}}
    pat_profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pat-org",
        "name": "PatOrg", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Patient.contained", "path": "Patient.contained",
             "type": [{"code": "Resource", "profile": [org_profile["url"]]}]}]}}
    v = Validator(resources=[org_profile, pat_profile], include_user_packages=False)
    patient = {"resourceType": "Patient", "meta": {"profile": [pat_profile["url"]]},
               "contained": [{"resourceType": "Organization", "id": "o", "identifier": [{"value": "1"}]}],
               "managingOrganization": {"reference": "#o"}}
    assert [i.rule for i in v.validate(patient) if i.is_error] == ["Organization.name"]
    assert [i for i in v.validate(patient, settings=Settings(check_contained=False)) if i.is_error] == []


def test_html_in_markdown_is_an_error_only_when_the_settings_say_so(validator):
    comm = {"resourceType": "Communication", "status": "completed", "note": [{"text": "see <b>this</b>"}]}
    assert not any(i.is_error for i in validator.validate(comm))
    assert [i.rule for i in validator.validate(comm, settings=Settings(no_html_in_markdown=True)) if i.is_error] == [
        "markdown.html"]


@pytest.mark.parametrize(("full_url", "error"), [
    ("http://x.org/fhir/Patient/p1", False),
    ("http://x.org/fhir/Patient/p2", True),      # RESTful, names another id
    ("http://x.org/fhir/Patinet/p2", False),     # not a resource type: not a RESTful URL, nothing to agree with
])
def test_fullurl_agrees_with_the_resource_id_when_restful(validator, full_url, error):
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": full_url, "resource": {"resourceType": "Patient", "id": "p1"}}]}
    assert any(i.rule == "bundle.fullurl-id" for i in validator.validate(bundle)) is error


def test_unresolved_rest_reference_type_is_judged_only_when_assumed_valid(validator):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "Medication/123"}}  # Observation.subject: Patient | Group | Device | Location
    assert not any(i.is_error for i in validator.validate(obs))
    found = validator.validate(obs, settings=Settings(assume_valid_rest_references=True))
    assert [(i.location, i.rule) for i in found if i.is_error] == [("Observation.subject", "reference.target-type")]
