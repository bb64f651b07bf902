"""References checked beyond the instance (`Settings.check_references`, the reference validator's
validateReference) and references resolved inside a Parameters resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.fhir import Validator
from conformance.fhir.fetcher import folder_fetcher
from conformance.fhir.settings import REFERENCE_POLICIES, Settings

FEMALE_PATIENT = "http://example.org/fhir/StructureDefinition/female-patient"
LINKED_PATIENT = "http://example.org/fhir/StructureDefinition/linked-patient"
TEXT = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def _profile(url: str, type_: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": url, "name": url.rsplit("/", 1)[1].replace("-", ""),
            "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": type_,
            "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{type_}", "derivation": "constraint",
            "differential": {"element": elements}}


#: a Patient profile: gender fixed to female
FEMALE = _profile(FEMALE_PATIENT, "Patient", [{"id": "Patient.gender", "path": "Patient.gender",
                                               "fixedCode": "female"}])
#: an Observation profile whose subject must be a female-patient
OBS_OF_FEMALE = _profile("http://example.org/fhir/StructureDefinition/obs-of-female", "Observation", [
    {"id": "Observation.subject", "path": "Observation.subject",
     "type": [{"code": "Reference", "targetProfile": [FEMALE_PATIENT]}]}])
#: a Patient profile that links only to patients of the same profile (so instances may link in a circle)
LINKED = _profile(LINKED_PATIENT, "Patient", [
    {"id": "Patient.gender", "path": "Patient.gender", "fixedCode": "other"},
    {"id": "Patient.link.other", "path": "Patient.link.other",
     "type": [{"code": "Reference", "targetProfile": [LINKED_PATIENT]}]}])


def _observation(subject: str, profile: str | None = None) -> dict[str, Any]:
    obs: dict[str, Any] = {"resourceType": "Observation", "id": "o1", "text": TEXT, "status": "final",
                           "code": {"text": "weight"}, "subject": {"reference": subject}}
    if profile:
        obs["meta"] = {"profile": [profile]}
    return obs


def _patient(pid: str, gender: str, link_to: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"resourceType": "Patient", "id": pid, "text": TEXT, "gender": gender}
    if link_to:
        p["link"] = [{"other": {"reference": link_to}, "type": "seealso"}]
    return p


def _errors(issues: list[Any]) -> list[tuple[str, str]]:
    return [(i.location, i.rule) for i in issues if i.is_error]


@pytest.fixture()
def fresh() -> Validator:
    """A validator of its own: reference targets must not leak into the shared one."""
    return Validator(resources=[FEMALE, OBS_OF_FEMALE, LINKED])


def test_the_policies_are_ordered_weakest_first() -> None:
    assert REFERENCE_POLICIES[0] == Settings().check_references == "ignore"


def test_an_unresolved_reference_is_only_judged_when_references_are_checked(fresh: Validator) -> None:
    obs = _observation("Patient/nowhere")
    assert _errors(fresh.validate(obs)) == []
    for policy in ("exists", "type", "valid"):
        assert _errors(fresh.validate(obs, settings=Settings(check_references=policy))) == [
            ("Observation.subject", "reference.not-found")], policy


def test_a_reference_target_makes_it_resolve(fresh: Validator) -> None:
    fresh.add_reference_target(_patient("p1", "female"))
    for ref in ("Patient/p1", "Patient/p1/_history/3", "https://ehr.example.org/fhir/Patient/p1"):
        assert _errors(fresh.validate(_observation(ref), settings=Settings(check_references="exists"))) == [], ref


def test_type_checks_the_target_found_outside_the_instance(fresh: Validator) -> None:
    fresh.add_reference_target({"resourceType": "Organization", "id": "org1", "text": TEXT, "name": "x"})
    obs = _observation("Organization/org1")  # Observation.subject takes Patient, Group, Device, Location
    assert _errors(fresh.validate(obs, settings=Settings(check_references="exists"))) == []
    assert _errors(fresh.validate(obs, settings=Settings(check_references="type"))) == [
        ("Observation.subject", "reference.target-type")]


def test_valid_checks_the_target_against_the_target_profile(fresh: Validator, tmp_path: Path) -> None:
    (tmp_path / "Patient-her.json").write_text(json.dumps(_patient("her", "female")))
    (tmp_path / "him.json").write_text(json.dumps(_patient("him", "male")))
    fresh.add_reference_fetcher(folder_fetcher(tmp_path))
    valid = Settings(check_references="valid")
    profile = OBS_OF_FEMALE["url"]
    assert _errors(fresh.validate(_observation("Patient/her", profile), settings=valid)) == []
    assert _errors(fresh.validate(_observation("Patient/him", profile), settings=valid)) == [
        ("Observation.subject", "Observation.subject")]
    # weaker policies do not look at the target's content
    assert _errors(fresh.validate(_observation("Patient/him", profile), settings=Settings(check_references="type"))) \
        == []


def test_a_circle_of_references_is_valid_when_every_member_is(fresh: Validator) -> None:
    valid = Settings(check_references="valid")
    fresh.add_reference_target(_patient("b", "other", "Patient/a"))
    fresh.add_reference_target(_patient("bad", "male", "Patient/a"))
    good = _patient("a", "other", "Patient/b")
    good["meta"] = {"profile": [LINKED_PATIENT]}
    assert _errors(fresh.validate(good, settings=valid)) == []  # a -> b -> a: no endless walk, no error
    bad_link = {**good, "link": [{"other": {"reference": "Patient/bad"}, "type": "seealso"}]}
    assert _errors(fresh.validate(bad_link, settings=valid)) == [("Patient.link[0].other", "Patient.link.other")]


def test_a_url_that_names_no_resource_is_not_judged(fresh: Validator) -> None:
    org = {"resourceType": "Organization", "id": "o", "text": TEXT, "name": "x",
           "endpoint": [{"reference": "http://example.org/payer/fhir"}]}
    assert _errors(fresh.validate(org, settings=Settings(check_references="exists"))) == []


def test_reference_targets_need_a_type_and_an_id(fresh: Validator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resourceType and an id"):
        fresh.add_reference_target({"resourceType": "Patient"})
    with pytest.raises(ValueError, match="not a folder"):
        folder_fetcher(tmp_path / "missing")


# -- Parameters: its resources are what references inside it resolve to (as entries of a Bundle) -------------------

def _parameters(beneficiary: str) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [
        {"name": "member", "resource": _patient("1", "female")},
        {"name": "payer", "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/parameters-fullUrl",
                                         "valueUri": "urn:uuid:6c3a8d2e-0b1f-4a55-9a51-3f6a1d0c2b7e"}],
         "resource": {"resourceType": "Organization", "id": "payer", "text": TEXT, "name": "x"}},
        {"name": "coverage", "resource": {"resourceType": "Coverage", "id": "c", "text": TEXT, "status": "active",
                                          "beneficiary": {"reference": beneficiary},
                                          "payor": [{"reference": "urn:uuid:6c3a8d2e-0b1f-4a55-9a51-3f6a1d0c2b7e"}]}}]}


def test_references_resolve_to_the_resources_of_a_parameters(fresh: Validator) -> None:
    exists = Settings(check_references="exists")
    assert _errors(fresh.validate(_parameters("Patient/1"), settings=exists)) == []
    assert _errors(fresh.validate(_parameters("Patient/2"), settings=exists)) == [
        ("Parameters.parameter[2].resource.beneficiary", "reference.not-found")]


def test_a_parameters_resource_found_by_its_full_url_is_type_checked(fresh: Validator) -> None:
    params = _parameters("urn:uuid:6c3a8d2e-0b1f-4a55-9a51-3f6a1d0c2b7e")  # the beneficiary is the Organization
    assert _errors(fresh.validate(params)) == [("Parameters.parameter[2].resource.beneficiary",
                                                "reference.target-type")]


# -- the command line --------------------------------------------------------------------------------------------

def test_cli_checks_references_against_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "targets"
    folder.mkdir()
    (folder / "p1.json").write_text(json.dumps(_patient("p1", "female")))
    found, missing = tmp_path / "found.json", tmp_path / "missing.json"
    found.write_text(json.dumps(_observation("Patient/p1")))
    missing.write_text(json.dumps(_observation("Patient/p2")))
    args = ["validate", "--check-references", "exists", "--reference-dir", str(folder)]
    assert main([*args, str(found)]) == 0
    assert main([*args, str(missing)]) == 1
    assert "Unable to resolve resource with reference 'Patient/p2'" in capsys.readouterr().out


def test_cli_refuses_a_reference_folder_it_would_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "o.json"
    f.write_text(json.dumps(_observation("Patient/p1")))
    assert main(["validate", "--reference-dir", str(tmp_path), str(f)]) == 2
    assert "--check-references" in capsys.readouterr().err
