"""EHDS-INT-012 at the HTTP level: a malformed body gets 400 with an OperationOutcome, and nothing
of it is stored.

A 404/405/501 is not a refusal of the body: the submit route itself is missing (or the method
is not allowed there), so the check cannot decide and says so (an error naming the request),
instead of counting "no such route" as "malformed body refused".
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import Capability, NotFound
from conformance.errors import AdapterError

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
    """POST a valid patient summary broken one way (truncated, trailing garbage, single quotes, not
    UTF-8, wrapped in an array) to the SUT's submit endpoint ([interactions] submit: ``Bundle`` for
    create, the base for a transaction); expect 4xx with an OperationOutcome, then the patient must
    not be findable. 404/405/501 (route missing) is an error, not a pass."""
    patient = new_patient()
    text = json.dumps(documents.valid("patient-summary", patient))
    broken = BREAKAGES[breakage](text)
    body = broken if isinstance(broken, bytes) else broken.encode("utf-8")
    token = http.token(accounts.hp).access_token
    endpoint = "Bundle" if http.settings.interactions.get("submit", "create") == "create" else ""
    response = http.request("POST", endpoint, token=token, content=body, label=f"submit: {breakage}",
                            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"})
    if response.status_code in (404, 405, 501):
        raise AdapterError(f"route missing, not a refusal of the body: {response.describe()}; the submit endpoint "
                           "does not exist for this method, so refusing a malformed body cannot be told apart. "
                           "Set [interactions] submit to the interaction the server offers")
    assert 400 <= response.status_code < 500, (
        f"a body with {breakage}: {response.describe()}, not a 4xx refusal")
    try:
        outcome = json.loads(response.content)
    except ValueError:
        outcome = None
    assert isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome", (
        f"the refusal of a body with {breakage} ({response.line}, HTTP {response.status_code}) is not an "
        "OperationOutcome")
    try:
        pid = sut.login(accounts.hp).find_patient(patient.identifier)
    except NotFound:
        evidence.note(f"{breakage}: HTTP {response.status_code} with an OperationOutcome, nothing stored")
        return
    raise AssertionError(f"after refusing a body with {breakage}, the patient was kept as {pid!r}")
