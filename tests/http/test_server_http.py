"""The reference FHIR server over real HTTPS on loopback: routes, OAuth flows, errors as
OperationOutcomes, limits, and that refused input leaves nothing behind."""

from __future__ import annotations

import json
import sqlite3
import ssl
import urllib.parse

import httpx
import pytest

from conformance.adapter import Restriction
from tests.reference.bundles import document, new_patient_identifier

FHIR = {"Accept": "application/fhir+json"}


@pytest.fixture(scope="module")
def tls(served) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(served.box.keydir() / "localhost.cert.pem"))


@pytest.fixture(scope="module")
def client(served, tls):
    with httpx.Client(verify=tls, base_url=served.fhir_base + "/", timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(adapter):
    probe = adapter.http_probe()
    accounts = adapter.test_accounts()
    return {"hp": probe.token(accounts.hp).access_token, "auditor": probe.token(accounts.auditor).access_token}


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {**FHIR, "Authorization": f"Bearer {token}", **extra}


def counts(served) -> dict[str, int]:
    """Rows of the tables holding health data, read through a connection of our own."""
    with sqlite3.connect(f"file:{served.service.store.path}?mode=ro", uri=True) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("patients", "documents", "restrictions")}


def filed(client, tokens) -> tuple[str, str, str]:
    ident = new_patient_identifier()
    r = client.post("Bundle", content=json.dumps(document("patient-summary", ident)),
                    headers=bearer(tokens["hp"], **{"Content-Type": "application/fhir+json"}))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"].endswith(f"/Bundle/{body['id']}")
    return ident, body["subject"]["reference"].split("/")[1], body["id"]


def outcome(r: httpx.Response) -> str:
    body = r.json()
    assert body["resourceType"] == "OperationOutcome", body
    return " ".join(i.get("diagnostics", "") for i in body["issue"])


def test_metadata_and_discovery_are_public_and_consistent(client, served, tls):
    cs = client.get("metadata").json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    assert cs["implementation"]["url"] == served.fhir_base
    smart = client.get(".well-known/smart-configuration").json()
    assert smart["token_endpoint"] == served.server.url + "/auth/token"
    assert "private_key_jwt" in smart["token_endpoint_auth_methods_supported"]
    oidc = httpx.get(served.server.url + "/auth/.well-known/openid-configuration", verify=tls).json()
    assert oidc["issuer"] == smart["issuer"] and "SubjectNameID" in oidc["claims_supported"]


def test_capability_statement_is_valid_fhir(client):
    from conformance.fhir import default_validator

    errors = [i for i in default_validator().validate(client.get("metadata").json()) if i.is_error]
    assert not errors, errors[:3]


def test_submit_search_fetch_and_summary(client, tokens):
    ident, pid, doc = filed(client, tokens)
    found = client.get("Patient", params={"identifier": ident}, headers=bearer(tokens["hp"])).json()
    assert found["type"] == "searchset" and [e["resource"]["id"] for e in found["entry"]] == [pid]
    empty = client.get("Patient", params={"identifier": new_patient_identifier()}, headers=bearer(tokens["hp"])).json()
    assert empty["total"] == 0 and "entry" not in empty
    refs = client.get("DocumentReference", params={"patient": f"Patient/{pid}", "type": "http://loinc.org|60591-5"},
                      headers=bearer(tokens["hp"])).json()
    assert [e["resource"]["id"] for e in refs["entry"]] == [doc]
    url = refs["entry"][0]["resource"]["content"][0]["attachment"]["url"]
    assert client.get(url, headers=bearer(tokens["hp"])).json()["type"] == "document"
    summary = client.get(f"Patient/{pid}/$summary", headers=bearer(tokens["hp"])).json()
    assert summary["resourceType"] == "Bundle" and summary["type"] == "document"
    assert client.get(f"Patient/{pid}", headers=bearer(tokens["hp"])).json()["id"] == pid


def test_unknown_type_codes_and_missing_parameters_are_400(client, tokens):
    r = client.get("DocumentReference", params={"patient": "x", "type": "http://loinc.org|0000-0"},
                   headers=bearer(tokens["hp"]))
    assert r.status_code == 400 and "LOINC" in outcome(r)
    r = client.get("DocumentReference", headers=bearer(tokens["hp"]))
    assert r.status_code == 400 and "patient" in outcome(r)
    r = client.get("Patient", headers=bearer(tokens["hp"]))
    assert r.status_code == 400 and "identifier" in outcome(r)
    r = client.get("Patient/not an id!", headers=bearer(tokens["hp"]))
    assert r.status_code == 400 and "FHIR id" in outcome(r)


def test_every_error_is_an_operation_outcome(client, tokens):
    r = client.get("Nothing/here", headers=FHIR)
    assert r.status_code == 404 and "metadata" in outcome(r)
    r = client.delete("AuditEvent/123", headers=bearer(tokens["auditor"]))
    assert r.status_code == 405 and "read-only" in outcome(r)
    r = client.patch("metadata", headers=FHIR)
    assert r.status_code == 405 and outcome(r)


def test_the_access_log_is_searchable_and_paged(client, tokens):
    _ident, pid, _doc = filed(client, tokens)
    for _ in range(3):
        client.get(f"Patient/{pid}/$summary", headers=bearer(tokens["hp"]))
    everything = client.get("AuditEvent", params={"patient": pid}, headers=bearer(tokens["auditor"])).json()
    assert everything["total"] >= 4
    page = client.get("AuditEvent", params={"patient": pid, "_count": "2"}, headers=bearer(tokens["auditor"])).json()
    assert len(page["entry"]) == 2 and page["total"] == everything["total"]
    seen = [e["resource"]["id"] for e in page["entry"]]
    link = next(x["url"] for x in page["link"] if x["relation"] == "next")
    while link:
        page = client.get(link, headers=bearer(tokens["auditor"])).json()
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        link = next((x["url"] for x in page["link"] if x["relation"] == "next"), None)
    assert seen == [e["resource"]["id"] for e in everything["entry"]]
    future = client.get("AuditEvent", params={"patient": pid, "date": "ge2999-01-01"},
                        headers=bearer(tokens["auditor"])).json()
    assert future["total"] == 0
    alice = client.get("AuditEvent", params={"patient": pid, "agent": "https://ehds-conformance.invalid/hp|alice-martin"},
                       headers=bearer(tokens["auditor"])).json()
    assert 0 < alice["total"] <= everything["total"]
    r = client.get("AuditEvent", params={"patient": pid, "date": "yesterday"}, headers=bearer(tokens["auditor"]))
    assert r.status_code == 400


def test_request_ids_correlate_requests_and_log_entries(client, tokens):
    _ident, pid, _doc = filed(client, tokens)
    r = client.get(f"Patient/{pid}/$summary", headers=bearer(tokens["hp"], **{"X-Request-Id": "corr-42"}))
    assert r.headers["x-request-id"] == "corr-42"
    log = client.get("AuditEvent", params={"patient": pid}, headers=bearer(tokens["auditor"])).json()
    assert "corr-42" in json.dumps(log)


def test_consent_restricts_and_emergency_header_overrides(client, tokens, adapter):
    ident, pid, doc = filed(client, tokens)
    patient = adapter.login(adapter.test_accounts().patient(ident))
    patient.restrict(pid, Restriction(document_ids=frozenset({doc})))
    listed = client.get("DocumentReference", params={"patient": pid}, headers=bearer(tokens["hp"])).json()
    assert listed["total"] == 0
    assert client.get(f"Bundle/{doc}", headers=bearer(tokens["hp"])).status_code == 404
    blank = client.get(f"Bundle/{doc}", headers=bearer(tokens["hp"], **{"X-Emergency-Access-Purpose": ""}))
    assert blank.status_code == 403, "an empty emergency purpose must be refused, not ignored"
    purpose = urllib.parse.quote("Patient inconscient — urgences", safe="")
    ok = client.get(f"Bundle/{doc}", headers=bearer(tokens["hp"], **{"X-Emergency-Access-Purpose": purpose}))
    assert ok.status_code == 200
    log = json.dumps(client.get("AuditEvent", params={"patient": pid}, headers=bearer(tokens["auditor"])).json(),
                     ensure_ascii=False)
    assert "Patient inconscient — urgences" in log and "BTG" in log
    patient_token = adapter.http_probe().token(adapter.test_accounts().patient(ident)).access_token
    own = client.get("Consent", params={"patient": pid}, headers=bearer(patient_token))
    assert own.json()["entry"][0]["resource"]["provision"]["provision"][0]["data"][0]["reference"]["reference"] \
        == f"DocumentReference/{doc}"
    restriction = json.dumps({"resourceType": "Consent", "status": "active", "patient": {"reference": f"Patient/{pid}"},
                              "provision": {"type": "permit"}}).encode()
    r = client.post("Consent", content=restriction,
                    headers=bearer(tokens["hp"], **{"Content-Type": "application/fhir+json"}))
    assert r.status_code == 403, "a health professional may not restrict (or lift) the patient's restriction"
    hp_view = client.get("Consent", params={"patient": pid}, headers=bearer(tokens["hp"]))
    assert hp_view.status_code == 200 and hp_view.json()["total"] == 0, "a professional must not see the restriction"
    r = client.post("Consent", content=b'{"resourceType": "Consent"}',
                    headers=bearer(patient_token, **{"Content-Type": "application/fhir+json"}))
    assert r.status_code == 400 and "Consent.patient" in outcome(r)


def test_refused_input_stores_nothing(client, tokens, served):
    before = counts(served)
    headers = bearer(tokens["hp"], **{"Content-Type": "application/fhir+json"})
    r = client.post("Bundle", content=b'{"resourceType": "Bundle", "type": "document", "entry": [', headers=headers)
    assert r.status_code == 400 and "malformed JSON" in outcome(r)
    r = client.post("Bundle", content=b"[1, 2]", headers=headers)
    assert r.status_code == 400
    r = client.post("Bundle", content=json.dumps({"resourceType": "Patient"}).encode(), headers=headers)
    assert r.status_code == 422 and outcome(r)
    r = client.post("Bundle", content=b"{}", headers=bearer(tokens["hp"], **{"Content-Type": "text/plain"}))
    assert r.status_code == 415
    big = b'{"resourceType": "Bundle", "pad": "' + b"x" * (served.server.server.config.app.state.gateway.config
                                                          .max_body_bytes) + b'"}'
    r = client.post("Bundle", content=big, headers=headers)
    assert r.status_code == 413 and "limit" in outcome(r)

    def chunks():
        yield b'{"resourceType": "Bundle", "pad": "'
        for _ in range(60):
            yield b"y" * 100_000
        yield b'"}'

    r = client.post("Bundle", content=chunks(), headers=headers)
    assert r.status_code == 413, "a chunked body over the limit must be refused too"
    assert counts(served) == before


def test_login_flow_refuses_unregistered_redirects_and_missing_pkce(served, tls):
    auth = served.server.url + "/auth/authorize"
    verify = tls
    base = {"response_type": "code", "client_id": "ehr-app", "redirect_uri": "http://127.0.0.1/callback",
            "scope": "openid user/Patient.rs", "state": "s1", "code_challenge": "c" * 43,
            "code_challenge_method": "S256"}
    assert httpx.get(auth, params=base, verify=verify).status_code == 200
    r = httpx.get(auth, params={**base, "redirect_uri": "https://evil.invalid/cb"}, verify=verify)
    assert r.status_code == 400 and "redirect_uri" in r.text and "evil" not in r.headers.get("location", "")
    r = httpx.get(auth, params={**base, "code_challenge_method": "plain"}, verify=verify)
    assert r.status_code == 400 and "PKCE" in r.text
    r = httpx.post(auth, data={**base, "username": "<script>", "password": "x", "actor_kind": "health-professional"},
                   verify=verify)
    assert r.status_code == 401 and "<script>" not in r.text


def test_userinfo_names_the_person_and_organisation(served, adapter, tls, tokens):
    url = served.server.url + "/auth/userinfo"
    me = httpx.get(url, headers={"Authorization": f"Bearer {tokens['hp']}"}, verify=tls).json()
    hp = adapter.test_accounts().hp
    assert me["sub"] == hp.identifier and me["SubjectNameID"] == "alice-martin"
    assert me["SubjectOrganizationId"] == hp.organisation.identifier
    assert me["SubjectRefPro"]["exercices"][0]["activities"][0]["raisonSocialeSite"] == hp.organisation.name
    assert httpx.get(url, headers={"Authorization": f"Bearer {tokens['auditor']}"}, verify=tls).status_code == 403
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}, verify=tls).status_code == 401


def test_token_endpoint_errors_follow_rfc6749(served, adapter):
    probe = adapter.http_probe()
    r = probe.token_request({"grant_type": "password", "username": "a", "password": "b"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assertion = probe.client_assertion("log-review")
    r = probe.token_request({"grant_type": "client_credentials", "scope": "system/Patient.rs",
                             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                             "client_assertion": assertion, "resource": "https://unknown.invalid/fhir"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_target"
    r = probe.token_request({"grant_type": "client_credentials", "scope": "user/*.cruds",
                             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                             "client_assertion": probe.client_assertion("log-review")})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = probe.token_request({"grant_type": "authorization_code", "code": "x",
                             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                             "client_assertion": probe.client_assertion("log-review")})
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    assert r.headers["cache-control"] == "no-store"
