"""EHDS-LOG-011 and LOG-013 over HTTP: log records cannot be changed or deleted through the API, and
requests refused for want of a valid token are logged as failed accesses."""

from __future__ import annotations

import json

import pytest

from conformance import auditlog
from conformance.adapter import Capability
from conformance.checks import inconclusive

INTEGRITY = "EHDS-LOG-011"
REFUSED = "EHDS-LOG-013"


@pytest.mark.requirement(INTEGRITY)
@pytest.mark.capability(Capability.HTTP)
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_entries_cannot_be_changed_or_deleted(http, sut, accounts, seeded, evidence):
    """After a read of a fresh patient's summary, PUT a forged copy of the newest log entry, PATCH it
    and DELETE it, as the auditor and as a health professional: no attempt may succeed (2xx), and the
    entry must be unchanged and still there. Not-tested when there is no entry (EHDS-LOG-001)."""
    s = seeded()
    auditor = sut.login(accounts.auditor)
    sut.login(accounts.hp).fetch(s.patient_id, "patient-summary")
    before = auditor.access_log(s.patient_id)
    if not before:
        inconclusive("no log entry to try to alter (see EHDS-LOG-001)")
    target = before[-1]
    forged = {**target, "outcome": "0", "outcomeDesc": "altered by the harness"}
    attempts = 0
    for actor in (accounts.auditor, accounts.hp):
        token = http.token(actor).access_token
        for method, content in (("PUT", json.dumps(forged).encode()), ("PATCH", b"[]"), ("DELETE", None)):
            response = http.request(method, f"AuditEvent/{target.get('id', 'unknown')}", token=token, content=content,
                                    headers={"Content-Type": "application/fhir+json",
                                             "Accept": "application/fhir+json"}, label=f"{method} AuditEvent")
            attempts += 1
            assert not (200 <= response.status_code < 300), (
                f"{method} AuditEvent/{target.get('id')} as {actor.kind.value} answered HTTP {response.status_code}")
    after = {auditlog.entry_key(e): e for e in auditor.access_log(s.patient_id)}
    assert auditlog.entry_key(target) in after, "the log entry is gone after the refused DELETE"
    assert after[auditlog.entry_key(target)] == target, "the log entry changed after the refused PUT/PATCH"
    evidence.note(f"{attempts} attempts to change or delete a log entry were refused; the entry is intact")


@pytest.mark.requirement(REFUSED)
@pytest.mark.capability(Capability.HTTP)
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_requests_with_bad_tokens_are_logged_as_failures(http, sut, accounts, seeded, evidence):
    """File a document for a fresh patient, then GET their document list with no token and with a
    made-up token; both must be refused (else not-tested: EHDS-SEC-003 decides that) and the
    auditor must find at least one failure-outcome entry per refusal in the patient's log."""
    s = seeded()
    auditor = sut.login(accounts.auditor)
    before = auditor.access_log(s.patient_id)
    attempts = {"no token": None, "a made-up token": "not-a-valid-token"}
    for label, token in attempts.items():
        response = http.request("GET", f"DocumentReference?patient={s.patient_id}", token=token,
                                headers={"Accept": "application/fhir+json"}, label=f"refused: {label}")
        if response.status_code not in (401, 403):
            inconclusive(f"{response.line} with {label} was not refused (HTTP {response.status_code}), so there is "
                         "no refused request whose logging could be checked; see EHDS-SEC-003")
    added = auditlog.new_entries(before, auditor.access_log(s.patient_id))
    failed = [e for e in added if str(e.get("outcome", "0")) != "0"]
    for entry in failed[:2]:
        evidence.add("document", entry, label="log entry of a refused request")
    assert len(failed) >= len(attempts), (
        f"{len(attempts)} requests for the patient's data were refused, but the patient's log gained "
        f"{len(failed)} entries with a failure outcome")
