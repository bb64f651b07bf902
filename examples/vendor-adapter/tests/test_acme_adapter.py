"""The vendor's own quick tests of its adapter (before the harness run)."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.adapter import Adapter, Denied, NotFound, Rejected, Restriction, available_adapters, create_adapter
from conformance.documents import new_patient_identity, valid_document


@pytest.fixture
def acme():
    adapter = create_adapter("acme")
    yield adapter
    adapter.close()


def test_the_adapter_is_registered_as_acme():
    assert available_adapters()["acme"] == "acme_ehr_conformance:create"


def test_describe(acme):
    assert isinstance(acme, Adapter)
    d = acme.describe()
    assert (d.product, d.version, d.vendor) == ("ACME EHR", "4.2.0", "ACME Health Systems")


def test_sign_in_is_required(acme):
    accounts = acme.test_accounts()
    with pytest.raises(Denied):
        acme.login(accounts.anonymous)
    with pytest.raises(Denied):
        acme.login(dataclasses.replace(accounts.hp, credentials={"password": "nope"}))


def test_round_trip_through_the_sdk(acme):
    accounts = acme.test_accounts()
    hp = acme.login(accounts.hp)
    patient = new_patient_identity()
    bundle = valid_document("patient-summary", patient)
    receipt = hp.submit(bundle)
    assert hp.find_patient(patient.identifier) == receipt.patient_id
    assert hp.fetch(receipt.patient_id, "patient-summary") == bundle
    me = acme.login(accounts.patient(patient.identifier))
    me.restrict(receipt.patient_id, Restriction(document_ids=frozenset({receipt.document_id})))
    with pytest.raises(NotFound):
        hp.fetch(receipt.patient_id, "patient-summary")
    assert me.access_log(receipt.patient_id)[-1]["resourceType"] == "AuditEvent"
    with pytest.raises(Rejected):
        hp.submit({"resourceType": "Bundle", "type": "collection"})
