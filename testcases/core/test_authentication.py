"""Annex II 3.1: health professionals are identified and authenticated before any access."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.adapter import Denied, NotFound, NotSupported
from conformance.checks import inconclusive

REQ = "EHDS-SEC-006"


def _seeded_patient(sut, accounts, new_patient, documents):
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = hp.submit(documents.valid("patient-summary", patient))
    return patient, receipt


@pytest.mark.requirement(REQ)
def test_anonymous_access_is_refused(sut, accounts, new_patient, documents, evidence):
    patient, receipt = _seeded_patient(sut, accounts, new_patient, documents)
    try:
        session = sut.login(accounts.anonymous)
    except Denied as answer:
        evidence.note(f"anonymous login refused: {answer.reason or 'Denied'}")
        return
    for attempt, call in (
        ("fetch", lambda: session.fetch(receipt.patient_id, "patient-summary")),
        ("list_documents", lambda: session.list_documents(receipt.patient_id)),
    ):
        try:
            result = call()
        except (Denied, NotFound) as answer:
            evidence.note(f"anonymous {attempt} refused: {type(answer).__name__}")
            continue
        evidence.add("document", result, label=f"served to an anonymous caller by {attempt}")
        raise AssertionError(f"an unauthenticated caller obtained data through {attempt}")


@pytest.mark.requirement(REQ)
def test_wrong_credentials_are_refused(sut, accounts, evidence):
    real = accounts.hp
    forged = {key: "wrong-" + str(value) for key, value in real.credentials.items()} or {"password": "wrong"}
    impostor = dataclasses.replace(real, credentials=forged)
    try:
        sut.login(impostor)
    except Denied as answer:
        evidence.note(f"login with wrong credentials refused: {answer.reason or 'Denied'}")
        return
    except NotSupported as answer:  # e.g. a vendor-supplied bearer token: no credentials to get wrong
        inconclusive(f"wrong credentials cannot be tried through this adapter: {answer.reason}")
    raise AssertionError(f"login as {real.identifier} succeeded with wrong credentials")
