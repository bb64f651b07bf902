"""EHDS-INT-012 at the HTTP level: a malformed body gets 400 with an OperationOutcome, and nothing
of it is stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import Capability, NotFound

REQ = "EHDS-INT-012"

BREAKAGES = {
    "truncated JSON": lambda text: text[: len(text) // 2],
    "trailing garbage": lambda text: text + "}}",
    "single quotes": lambda text: text.replace('"', "'", 8),
    "not UTF-8": lambda text: text.encode("utf-8")[:-1] + b"\xff\xfe",
    "a JSON array": lambda text: "[" + text + "]",
}


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
@pytest.mark.capability(Capability.SUBMIT)
@given(breakage=st.sampled_from(sorted(BREAKAGES)))
def test_malformed_body_is_refused_and_nothing_stored(http, sut, accounts, new_patient, documents, evidence,
                                                      breakage):
    patient = new_patient()
    text = json.dumps(documents.valid("patient-summary", patient))
    broken = BREAKAGES[breakage](text)
    body = broken if isinstance(broken, bytes) else broken.encode("utf-8")
    token = http.token(accounts.hp).access_token
    response = http.request("POST", "Bundle", token=token, content=body, label=f"submit: {breakage}",
                            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"})
    assert 400 <= response.status_code < 500, (
        f"a body with {breakage} answered HTTP {response.status_code}, not a 4xx refusal")
    try:
        outcome = json.loads(response.content)
    except ValueError:
        outcome = None
    assert isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome", (
        f"the refusal of a body with {breakage} is not an OperationOutcome")
    try:
        pid = sut.login(accounts.hp).find_patient(patient.identifier)
    except NotFound:
        evidence.note(f"{breakage}: HTTP {response.status_code} with an OperationOutcome, nothing stored")
        return
    raise AssertionError(f"after refusing a body with {breakage}, the patient was kept as {pid!r}")
