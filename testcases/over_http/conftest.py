"""Fixtures of the transport and token checks (EHDS-SEC-001..005, LOG-011, LOG-013 over HTTP).

These checks talk HTTP to the SUT directly, through the adapter's ``http_probe()``
(the ``fhir`` adapter has one): they need requests a well-behaved client never
sends (no token, a forged token, plain HTTP, a replayed client assertion). Every
exchange is recorded as evidence with credentials redacted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.checks import inconclusive

#: Statuses that refuse a request for want of (valid) authorisation.
REFUSED = (401, 403)
#: Statuses that say the route itself is missing: they decide nothing about authorisation.
ROUTE_MISSING = (404, 405, 501)


@pytest.fixture
def http(sut):
    """The raw HTTP probe of the SUT (inconclusive when its adapter has none)."""
    make = getattr(sut.wrapped, "http_probe", None)
    if not callable(make):
        inconclusive("the adapter declares HTTP but offers no http_probe() for raw requests")
    return make()


@dataclass
class Seeded:
    patient: Any
    patient_id: str
    document_id: str
    bundle: dict[str, Any]

    def secrets(self) -> list[str]:
        """Strings that must not appear in an answer to an unauthorised caller (health data)."""
        p = self.patient
        values = [p.identifier.split("|", 1)[-1], getattr(p, "family", ""), getattr(p, "birth_date", "")]
        comp = (self.bundle.get("entry") or [{}])[0].get("resource", {})
        values.append(str(comp.get("title", "")))
        return [v for v in values if v and len(v) >= 4]


@pytest.fixture
def seeded(sut, accounts, new_patient, documents):
    """Factory: a fresh patient with one patient summary filed by the health professional."""
    def make(category: str = "patient-summary") -> Seeded:
        hp = sut.login(accounts.hp)
        patient = new_patient()
        bundle = documents.valid(category, patient)
        receipt = hp.submit(bundle)
        return Seeded(patient, receipt.patient_id, receipt.document_id, bundle)

    return make


class Refusals:
    """Assertions about answers to requests that must be refused."""

    @staticmethod
    def assert_refused(response: Any, what: str, seeded: Seeded | None = None) -> None:
        """401/403 with an OperationOutcome that reveals none of the patient's data (and, for 401, a
        WWW-Authenticate: Bearer). Messages name the request; 'what' says which attempt it was."""
        status = response.status_code
        line = getattr(response, "line", "the request")
        assert status in REFUSED, f"{line} ({what}) answered HTTP {status}, not 401/403"
        text = response.content.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", (
            f"{line} ({what}) refused with HTTP {status}, but the body is not an OperationOutcome")
        if seeded is not None:
            leaked = [s for s in seeded.secrets() if s in text]
            assert not leaked, f"{line} ({what}): the refusal reveals health data of the patient ({leaked})"
        if status == 401:
            assert "bearer" in response.headers.get("www-authenticate", "").lower(), (
                f"{line} ({what}): a 401 must say how to authenticate (WWW-Authenticate: Bearer, RFC 6750)")


@pytest.fixture
def refusals() -> Refusals:
    return Refusals()
