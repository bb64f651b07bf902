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
