"""EHDS-INT-001: the server publishes its FHIR R4 capabilities, its EEHRxF role and the IGs it follows.

Procedure: GET [base]/metadata without a token; it must answer 200 with a CapabilityStatement
(fhirVersion 4.0.1, an EEHRxF role in instantiates, the implementation guides), valid FHIR R4.
A server without one fails here; the other checks still run (the adapter then takes the
capabilities from the SUT file, and the report says so).
"""

from __future__ import annotations

import json

import pytest

from conformance.adapter import Capability

REQ = "EHDS-INT-001"
EEHRXF = "http://hl7.eu/fhir/health-data-api/CapabilityStatement/EEHRxF-"


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_capability_statement_declares_role_and_guides(http, evidence, fhir_validator):
    """Procedure: GET [base]/metadata with no token (Accept: application/fhir+json); require HTTP 200 with a JSON
    CapabilityStatement whose fhirVersion is 4.0.1, whose instantiates names at least one URL starting
    http://hl7.eu/fhir/health-data-api/CapabilityStatement/EEHRxF-, whose implementationGuide list is not empty, and
    in which the offline FHIR R4 validator finds no error. Observed: the status and body of the metadata answer and
    the validator's errors. Decides EHDS-INT-001: the requirement is that the system publishes its FHIR R4
    capabilities with its EEHRxF access-provider role(s) and the content guides it supports, so a missing or
    non-JSON statement, another FHIR version, no EEHRxF role, no guide or an invalid resource fails it (which guides
    are listed is recorded, not judged)."""
    response = http.request("GET", "metadata", headers={"Accept": "application/fhir+json"}, label="metadata")
    assert response.status_code == 200, (
        f"no CapabilityStatement: {response.describe()}; a FHIR server publishes one at GET [base]/metadata")
    try:
        statement = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.line} answered HTTP 200 ({response.headers.get('content-type', 'no type')})"
                             " with a body that is not JSON, so no CapabilityStatement") from None
    kind = statement.get("resourceType") if isinstance(statement, dict) else type(statement).__name__
    assert kind == "CapabilityStatement", f"{response.line} returned a {kind!r}, not a CapabilityStatement"
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
