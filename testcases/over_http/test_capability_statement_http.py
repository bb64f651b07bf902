"""EHDS-INT-001: the server publishes its FHIR R4 capabilities, its EEHRxF role and the IGs it follows."""

from __future__ import annotations

import json

import pytest

from conformance.adapter import Capability

REQ = "EHDS-INT-001"
EEHRXF = "http://hl7.eu/fhir/health-data-api/CapabilityStatement/EEHRxF-"


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_capability_statement_declares_role_and_guides(http, evidence, fhir_validator):
    response = http.request("GET", "metadata", headers={"Accept": "application/fhir+json"}, label="metadata")
    assert response.status_code == 200, f"GET {http.base_url}/metadata answered HTTP {response.status_code}"
    try:
        statement = json.loads(response.content)
    except ValueError:
        raise AssertionError("GET metadata did not return JSON") from None
    assert statement.get("resourceType") == "CapabilityStatement", (
        f"GET metadata returned a {statement.get('resourceType')!r}, not a CapabilityStatement")
    evidence.add("document", statement, label="CapabilityStatement")
    assert statement.get("fhirVersion") == "4.0.1", f"fhirVersion is {statement.get('fhirVersion')!r}, not 4.0.1"
    roles = [u for u in statement.get("instantiates", []) or [] if str(u).startswith(EEHRXF)]
    assert roles, f"instantiates names no EEHRxF access-provider role ({EEHRXF}*)"
    guides = statement.get("implementationGuide") or []
    assert guides, "implementationGuide is empty: the content guides followed are not declared"
    issues = [i for i in fhir_validator.validate(statement) if i.is_error]
    if issues:
        evidence.validation(issues, label="CapabilityStatement")
    assert not issues, f"the CapabilityStatement is not valid FHIR R4: {issues[0].location}: {issues[0].message}"
    evidence.note(f"roles {roles}; guides {guides}")
