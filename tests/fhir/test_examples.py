"""Published examples validate cleanly: every IPS 2.0.0 example, every BALP example against its profile."""

from __future__ import annotations

import copy

import pytest

from tests.fhir.conftest import DATA, load

IPS_EXAMPLES = sorted(p.name for p in (DATA / "ips-2.0.0-examples").glob("*.json") if p.name != "expected-outcomes.json")
BALP_EXAMPLES = sorted(p.name for p in (DATA / "balp-examples").glob("AuditEvent-*.json"))


def _errors(issues):
    return [f"{i.location}: {i.message} [{i.rule}]" for i in issues if i.is_error]


def test_examples_are_present():
    assert len(IPS_EXAMPLES) == 26 and len(BALP_EXAMPLES) == 33


@pytest.mark.parametrize("name", IPS_EXAMPLES)
def test_ips_example_has_no_errors(validator, name):
    resource = load(f"ips-2.0.0-examples/{name}")
    declared = resource.get("meta", {}).get("profile", [])
    assert declared, "IPS examples declare their profile"
    assert _errors(validator.validate(resource)) == []


@pytest.mark.parametrize("name", BALP_EXAMPLES)
def test_balp_example_validates_against_its_profile(validator, name):
    resource = load(f"balp-examples/{name}")
    profiles = resource.get("meta", {}).get("profile", [])
    assert profiles and all(validator.has_profile(p) for p in profiles)
    assert _errors(validator.validate(resource, profiles=profiles)) == []


def test_balp_profile_is_really_applied(validator):
    """The BALP snapshot is generated from a differential; a broken AuditEvent must fail against it."""
    resource = load("balp-examples/AuditEvent-ex-auditBasicReadClient.json")
    broken = copy.deepcopy(resource)
    broken["entity"] = [e for e in broken["entity"] if e.get("role", {}).get("code") != "1"]  # drop the patient
    issues = validator.validate(broken)
    assert any(i.rule == "AuditEvent.entity:patient" and i.location == "AuditEvent" for i in issues if i.is_error)
    base_only = validator.validate(broken, profiles=[])
    assert base_only == issues  # meta.profile alone triggers the BALP check
