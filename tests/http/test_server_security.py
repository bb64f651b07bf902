"""Security of the reference FHIR server (the vendor template): least privilege for the full
export, every refused write to the access log logged with its caller, login throttling, a login
page that cannot be framed, and one sandbox password per patient."""

from __future__ import annotations

import urllib.parse

from conformance import jose
from conformance.adapter import ActorKind, Denied
from tests.reference.bundles import document, new_patient_identifier

JSON = {"Accept": "application/fhir+json"}


def _seed(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    ident = new_patient_identifier()
    return ident, hp.submit(document("patient-summary", ident)).patient_id


def test_everything_needs_the_data_holders_export_scope_and_is_logged(adapter, served):
    _, pid = _seed(adapter)
    probe = adapter.http_probe()
    accounts = adapter.test_accounts()
    log_review = probe.token(accounts.auditor)  # the auditor's log-review client: AuditEvent.rs Patient.rs
    assert "system/Patient.rs" in log_review.scope and "Bundle" not in log_review.scope
    refused = probe.request("GET", f"Patient/{pid}/$everything", token=log_review.access_token, headers=JSON)
    assert refused.status_code == 403, refused.describe()
    assert "Bundle.r" in refused.outcome_text()
    hp_token = probe.token(accounts.hp)
    assert probe.request("GET", f"Patient/{pid}/$everything", token=hp_token.access_token,
                         headers=JSON).status_code == 403, "a health professional is not the data holder"
    exported = adapter.login(accounts.auditor).export_all(pid)  # through the data-export client
    assert len(exported) == 1 and exported[0]["type"] == "document"
    log = served.service.store.audit_events(pid)
    refusals = [e for e in log if e.get("outcome") != "0" and "Bundle.r" in e.get("outcomeDesc", "")]
    assert refusals, "the refused full export is not in the patient's access log"
    holder = accounts.auditor.identifier.split("|", 1)[1]
    reads = [e for e in log if e.get("action") == "R" and e.get("outcome") == "0"
             and any(a.get("requestor") and a.get("who", {}).get("identifier", {}).get("value") == holder
                     for a in e.get("agent", []))]
    assert reads, "the data holder's full export is not in the patient's access log"


def test_refused_writes_to_the_access_log_are_logged_with_the_caller(adapter, served):
    probe = adapter.http_probe()
    accounts = adapter.test_accounts()
    token = probe.token(accounts.hp).access_token
    before = len(served.service.store.audit_events(None))
    for method in ("PUT", "DELETE"):
        answer = probe.request(method, "AuditEvent/some-entry", token=token, content=b"{}",
                               headers={**JSON, "Content-Type": "application/fhir+json"})
        assert answer.status_code == 405, answer.describe()
    assert probe.request("POST", "AuditEvent", content=b"{}",
                         headers={**JSON, "Content-Type": "application/fhir+json"}).status_code == 405
    added = served.service.store.audit_events(None)[before:]
    assert len(added) == 3, added
    assert all(e["outcome"] != "0" and "read-only" in e.get("outcomeDesc", "") for e in added)
    assert [e["action"] for e in added] == ["U", "D", "C"]
    people = [a.get("who", {}).get("identifier", {}).get("value") for e in added[:2] for a in e.get("agent", [])
              if a.get("requestor")]
    assert accounts.hp.identifier.split("|", 1)[1] in people, "the caller (known from the token) is not logged"


def _login_form(adapter, identifier: str, password: str, kind: str = "patient"):
    settings = adapter.settings
    client = settings.clients["ehr-app"]
    form = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
            "scope": "openid", "state": "s", "code_challenge": "x" * 43, "code_challenge_method": "S256",
            "username": identifier, "password": password, "actor_kind": kind}
    return adapter.http.send("POST", adapter.oauth.endpoint("authorization_endpoint"),
                             content=urllib.parse.urlencode(form).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_repeated_failed_logins_are_throttled(adapter):
    identifier = new_patient_identifier()
    statuses = [_login_form(adapter, identifier, "wrong-password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    assert _login_form(adapter, identifier, "wrong-password").headers.get("retry-after")


def test_the_login_page_cannot_be_framed(adapter):
    page = adapter.http.send("GET", adapter.oauth.endpoint("authorization_endpoint"), params={"client_id": "x"})
    assert page.headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in page.headers.get("content-security-policy", "")


def test_each_patient_has_their_own_sandbox_password(adapter):
    first, _ = _seed(adapter)
    second, _ = _seed(adapter)
    master = adapter.settings.patient_credentials["password"]
    assert adapter.settings.patient_password_scheme == "per-patient"
    assert adapter.login(adapter.test_accounts().patient(first))  # the harness derives the patient's own password
    own_first = jose.derive_secret(master, first)
    assert _login_form(adapter, first, own_first).status_code == 302
    assert _login_form(adapter, second, own_first).status_code == 401, "one patient's password opens another"
    assert _login_form(adapter, first, master).status_code == 401, "the master secret is no patient's password"
    actor = adapter.test_accounts().patient(second)
    assert actor.kind is ActorKind.PATIENT
    try:
        adapter.oauth.login(adapter.login_settings(actor), actor.__class__(
            actor.kind, identifier=second, credentials={"password": "not-the-secret"}))
    except Denied:
        pass
    else:
        raise AssertionError("a wrong patient secret logged in")
