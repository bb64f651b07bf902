"""The patient's consent to an access for a purpose over real HTTPS on loopback: the `fhir` adapter's
record_consent / withdraw_consent / fetch_for_purpose against the reference FHIR server, and the FHIR
interactions behind them (POST / GET / PUT / DELETE Consent, the X-Purpose-Of-Use header) as a vendor's
server would see them."""

from __future__ import annotations

import json
import ssl
import tomllib
import urllib.parse

import httpx
import pytest

from conformance import auditlog, fhirmap
from conformance.adapter import Capability, Consent, Denied, NotFound, Rejected
from conformance.adapters.fhir_rest import create
from tests.reference.bundles import document, new_patient_identifier

PURPOSE = "cross-border-care"
CATEGORY = "patient-summary"
FHIR_JSON = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}


def _filed(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    ident = new_patient_identifier()
    return hp, ident, hp.submit(document(CATEGORY, ident))


def _read(session, receipt):
    return session.fetch_for_purpose(receipt.patient_id, CATEGORY, PURPOSE, document_id=receipt.document_id)


def _log(adapter, patient_id):
    return adapter.login(adapter.test_accounts().auditor).access_log(patient_id)


def _refers_to(event, consent_id):
    return any(((e or {}).get("what") or {}).get("reference") == f"Consent/{consent_id}"
               for e in event.get("entity") or [])


def test_the_served_reference_declares_consent(adapter):
    assert adapter.describe().declares(Capability.CONSENT)


def test_no_consent_refused_and_logged_consent_allowed_and_referred_to_withdrawn_refused(adapter):
    hp, _ident, receipt = _filed(adapter)
    pid = receipt.patient_id
    hp_id = auditlog.identifier_value(adapter.test_accounts().hp.identifier)
    before = _log(adapter, pid)

    with pytest.raises(Denied, match="403"):
        _read(hp, receipt)
    added = auditlog.new_entries(before, after := _log(adapter, pid))
    refused = [e for e in added if e.get("outcome") != "0" and hp_id in auditlog.person_ids(e)]
    assert refused, f"the refused access left no refused entry naming the professional: {added}"
    assert PURPOSE in json.dumps(refused)

    record = hp.record_consent(pid, Consent(PURPOSE, adapter.test_accounts().hp.identifier))
    assert record.active and record.patient_id == pid and record.consent_id.startswith("consent-")
    assert record.recorded_by == adapter.test_accounts().hp.identifier and record.recorded, record
    assert _read(hp, receipt)["type"] == "document"
    added = auditlog.new_entries(after, after2 := _log(adapter, pid))
    served = [e for e in added if e.get("outcome") == "0" and hp_id in auditlog.person_ids(e)]
    assert served and all(_refers_to(e, record.consent_id) for e in served), added

    with pytest.raises(Denied):  # the consent names one professional
        _read(adapter.login(adapter.test_accounts().hp_other), receipt)

    hp.withdraw_consent(pid, record.consent_id)
    with pytest.raises(Denied):
        _read(hp, receipt)
    added = auditlog.new_entries(after2, _log(adapter, pid))
    assert added and all(e.get("outcome") != "0" for e in added if hp_id in auditlog.person_ids(e)), added


def test_the_patient_records_and_withdraws_by_delete(served, adapter):
    config = tomllib.loads(served.sut_file.read_text(encoding="utf-8"))
    config["sut"]["config_dir"] = str(served.sut_file.parent)
    config["interactions"] = {"withdraw_consent": "delete"}
    deleting = create(config)
    try:
        hp, ident, receipt = _filed(deleting)
        patient = deleting.login(deleting.test_accounts().patient(ident))
        record = patient.record_consent(receipt.patient_id, Consent(PURPOSE))  # any professional
        assert record.recorded_by.endswith(ident.rpartition("|")[2]), record
        assert _read(hp, receipt)["type"] == "document"
        assert _read(deleting.login(deleting.test_accounts().hp_other), receipt)["type"] == "document"
        patient.withdraw_consent(receipt.patient_id, record.consent_id)
        with pytest.raises(Denied):
            _read(hp, receipt)
        with pytest.raises(NotFound):
            patient.withdraw_consent(receipt.patient_id, "consent-none")
    finally:
        deleting.close()


def test_a_blank_purpose_is_rejected_and_another_patients_consent_is_not_found(adapter):
    hp, _ident, receipt = _filed(adapter)
    with pytest.raises(Rejected, match="Consent.provision.purpose"):
        hp.record_consent(receipt.patient_id, Consent("  "))
    _hp, _other, elsewhere = _filed(adapter)
    record = hp.record_consent(elsewhere.patient_id, Consent(PURPOSE))
    with pytest.raises(NotFound, match="another|Patient/"):
        hp.withdraw_consent(receipt.patient_id, record.consent_id)
    assert _read(hp, elsewhere)["type"] == "document", "a refused withdrawal must leave the consent in force"


# ---- the FHIR interactions, as a vendor's server sees them ----------------------------------


@pytest.fixture(scope="module")
def client(served):
    ctx = ssl.create_default_context(cafile=str(served.box.keydir() / "localhost.cert.pem"))
    with httpx.Client(verify=ctx, base_url=served.fhir_base + "/", timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def hp_token(adapter):
    return adapter.http_probe().token(adapter.test_accounts().hp).access_token


def _auth(token, **extra):
    return {**FHIR_JSON, "Authorization": f"Bearer {token}", **extra}


def test_consent_interactions_on_the_wire(adapter, client, hp_token):
    _hp, _ident, receipt = _filed(adapter)
    pid, doc = receipt.patient_id, receipt.document_id
    body = fhirmap.access_consent_request(pid, Consent(PURPOSE))
    body["performer"] = [{"identifier": {"value": "someone-else"}}]  # who recorded it is the server's to say
    r = client.post("Consent", content=json.dumps(body), headers=_auth(hp_token))
    assert r.status_code == 201, r.text
    made = r.json()
    cid = made["id"]
    assert r.headers["location"].endswith(f"/Consent/{cid}")
    assert made["performer"][0]["identifier"]["value"] != "someone-else" and made["dateTime"]
    assert client.get(f"Consent/{cid}", headers=_auth(hp_token)).json() == made

    found = client.get("Consent", params={"patient": pid, "status": "active",
                                          "purpose": f"{fhirmap.PURPOSE_SYSTEM}|{PURPOSE}"},
                       headers=_auth(hp_token)).json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [cid]
    purpose = {fhirmap.PURPOSE_HEADER: urllib.parse.quote(PURPOSE)}
    assert client.get(f"Patient/{pid}/$summary", headers=_auth(hp_token, **purpose)).status_code == 200
    both = client.get(f"Bundle/{doc}", headers=_auth(hp_token, **purpose, **{"X-Emergency-Access-Purpose": "x"}))
    assert both.status_code == 400 and "not both" in both.text

    other = {**made, "provision": {**made["provision"], "purpose": [{"code": "research"}]}}
    r = client.put(f"Consent/{cid}", content=json.dumps(other), headers=_auth(hp_token))
    assert r.status_code == 422 and "POST Consent" in r.text, r.text
    r = client.put(f"Consent/{cid}", content=json.dumps({**made, "id": "consent-x"}), headers=_auth(hp_token))
    assert r.status_code == 400 and "Consent.id" in r.text
    r = client.put(f"Consent/{cid}", content=json.dumps({**made, "status": "inactive"}), headers=_auth(hp_token))
    assert r.status_code == 200 and r.json()["status"] == "inactive"
    assert client.get(f"Bundle/{doc}", headers=_auth(hp_token, **purpose)).status_code == 403
    r = client.put(f"Consent/{cid}", content=json.dumps(made), headers=_auth(hp_token))
    assert r.status_code == 422 and "stays withdrawn" in r.text
    assert client.get("Consent", params={"patient": pid, "status": "active"}, headers=_auth(hp_token)).json()[
        "total"] == 0

    r = client.post("Consent", content=json.dumps({**body, "status": "inactive"}), headers=_auth(hp_token))
    assert r.status_code == 400 and "PUT Consent/<id>" in r.text
    two = {**body, "provision": {**body["provision"], "purpose": [{"code": "a"}, {"code": "b"}]}}
    r = client.post("Consent", content=json.dumps(two), headers=_auth(hp_token))
    assert r.status_code == 400 and "Consent.provision.purpose" in r.text and "nothing was" in r.text
    assert client.get("Consent/consent-none", headers=_auth(hp_token)).status_code == 404


def test_the_capability_statement_documents_the_consent_interactions(client):
    statement = client.get("metadata").json()
    consent = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Consent")
    assert {i["code"] for i in consent["interaction"]} >= {"create", "read", "update", "delete", "search-type"}
    assert fhirmap.PURPOSE_HEADER in consent["documentation"]
    assert fhirmap.PURPOSE_HEADER in statement["rest"][0]["documentation"]
