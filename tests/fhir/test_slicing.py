"""Slicing: an element that matches no slice of an open slicing is checked against the sliced element's
own definition only (never a guessed slice), and a slice's rules apply only where its discriminator matched."""

from __future__ import annotations

import copy

import pytest

from conformance.fhir import Validator
from tests.fhir.conftest import load

BODY_WEIGHT_URL = "urn:uuid:7e7d6d45-59b4-4a83-9a1d-3f2a1c1f0b11"


def ips_bundle_with_body_weight(*, category: bool) -> dict:
    """Our copy of the IPS 2.0.0 example Bundle-01, plus a vital-signs section holding a body-weight
    Observation (as in the IPS example Bundle-bundle-ips-all-sections), with or without its category."""
    b = copy.deepcopy(load("ips-2.0.0-examples/Bundle-IPS-examples-Bundle-01.json"))
    patient = next(e["fullUrl"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
    obs = {"resourceType": "Observation", "id": "body-weight", "status": "final",
           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": "vital-signs"}]}],
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
           "subject": {"reference": patient}, "effectiveDateTime": "2017-12-11T14:30:00+01:00",
           "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
    if not category:
        del obs["category"]
    b["entry"].append({"fullUrl": BODY_WEIGHT_URL, "resource": obs})
    b["entry"][0]["resource"]["section"].append({
        "title": "Vital signs", "code": {"coding": [{"system": "http://loinc.org", "code": "8716-3"}]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Body weight 72 kg</div>'},
        "entry": [{"reference": BODY_WEIGHT_URL}]})
    return b


@pytest.mark.parametrize("category", [True, False])
def test_observation_matching_no_bundle_slice_gets_no_slice_rules(validator, category):
    issues = validator.validate(ips_bundle_with_body_weight(category=category))
    errors = [f"{i.location}: {i.message}" for i in issues if i.is_error]
    assert errors == []
    assert not any("edd-method" in i.message for i in issues), "validated against a guessed (pregnancy EDD) slice"


# -- a small profile of our own: Observation.component sliced (open) by code ----------------------
PROFILE = "http://example.org/fhir/StructureDefinition/bp-slices"
LOINC = "http://loinc.org"


def _profile() -> dict:
    return {
        "resourceType": "StructureDefinition", "url": PROFILE, "name": "BpSlices", "status": "draft",
        "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Observation.component", "path": "Observation.component",
             "slicing": {"discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}},
            {"id": "Observation.component:systolic", "path": "Observation.component", "sliceName": "systolic",
             "min": 0, "max": "1"},
            {"id": "Observation.component:systolic.code", "path": "Observation.component.code",
             "patternCodeableConcept": {"coding": [{"system": LOINC, "code": "8480-6"}]}},
            {"id": "Observation.component:systolic.value[x]", "path": "Observation.component.value[x]",
             "min": 1, "type": [{"code": "Quantity"}]},
        ]},
    }


def _obs(*components: dict) -> dict:
    return {"resourceType": "Observation", "status": "final", "meta": {"profile": [PROFILE]},
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "component": list(components)}


def _component(code: str, value: bool) -> dict:
    c: dict = {"code": {"coding": [{"system": LOINC, "code": code}]}}
    if value:
        c["valueQuantity"] = {"value": 120, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
    return c


@pytest.fixture(scope="module")
def sliced() -> Validator:
    return Validator(resources=[_profile()], include_user_packages=False)


def test_slice_rules_apply_where_the_discriminator_matched(sliced):
    issues = sliced.validate(_obs(_component("8480-6", value=False)))
    assert [(i.location, i.rule) for i in issues if i.is_error] == [
        ("Observation.component[0]", "Observation.component:systolic.value[x]")]


def test_unmatched_element_of_open_slicing_is_not_checked_against_a_slice(sliced):
    issues = sliced.validate(_obs(_component("8462-4", value=False)))  # diastolic: no slice, value optional
    assert [i for i in issues if i.is_error] == []
    assert any(i.severity == "information" and "does not match any known slice" in i.message
               and i.location == "Observation.component[0]" for i in issues)


def test_required_slice_is_missing_when_the_sliced_element_is_absent():
    profile = _profile()
    profile["url"] = PROFILE + "-required"
    profile["differential"]["element"][1]["min"] = 1  # systolic: 1..1
    v = Validator(resources=[profile], include_user_packages=False)
    obs = _obs()
    obs["meta"]["profile"] = [profile["url"]]
    del obs["component"]
    assert [(i.location, i.rule) for i in v.validate(obs) if i.is_error] == [
        ("Observation", "Observation.component:systolic")]


@pytest.mark.parametrize(("payload", "errors"), [
    ([{"contentString": "s"}, {"contentAttachment": {"title": "a"}}], 0),
    ([{"contentString": "s"}, {"contentString": "t"}], 1),  # slice 'string' is 0..1
])
def test_type_discriminator_on_a_choice_constrained_by_renamed_elements(payload, errors):
    url = "http://example.org/fhir/StructureDefinition/comm-slices"
    profile = {
        "resourceType": "StructureDefinition", "url": url, "name": "CommSlices", "status": "draft",
        "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Communication",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Communication", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Communication.payload", "path": "Communication.payload",
             "slicing": {"discriminator": [{"type": "type", "path": "content"}], "rules": "closed"}},
            {"id": "Communication.payload:string", "path": "Communication.payload", "sliceName": "string", "max": "1"},
            {"id": "Communication.payload:string.contentString", "path": "Communication.payload.contentString",
             "min": 1, "type": [{"code": "string"}]},
            {"id": "Communication.payload:attachment", "path": "Communication.payload", "sliceName": "attachment",
             "max": "20"},
            {"id": "Communication.payload:attachment.contentAttachment",
             "path": "Communication.payload.contentAttachment", "min": 1, "type": [{"code": "Attachment"}]}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    comm = {"resourceType": "Communication", "status": "completed", "payload": payload}
    assert len([i for i in v.validate(comm, profiles=[url]) if i.is_error]) == errors


def test_differential_without_ids_puts_elements_in_the_slice_above_them():
    profile = _profile()
    profile["url"] = PROFILE + "-no-ids"
    for el in profile["differential"]["element"]:
        el.pop("id")  # older profiles: path + sliceName only; 'component.value[x]' belongs to slice systolic
    v = Validator(resources=[profile], include_user_packages=False)
    obs = _obs(_component("8480-6", value=False))
    obs["meta"]["profile"] = [profile["url"]]
    assert [i.rule for i in v.validate(obs) if i.is_error] == ["Observation.component:systolic.value[x]"]
    other = _obs(_component("8462-4", value=False))  # not systolic: its value stays optional
    other["meta"]["profile"] = [profile["url"]]
    assert not [i for i in v.validate(other) if i.is_error]
