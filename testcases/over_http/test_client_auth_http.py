"""EHDS-SEC-005: clients authenticate to the token endpoint with a signed JWT assertion
(private_key_jwt); shared secrets, replayed or foreign assertions get no token."""

from __future__ import annotations

import base64
import json

import pytest

from conformance.adapter import Capability
from conformance.checks import inconclusive

REQ = "EHDS-SEC-005"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _backend_client(http, accounts):
    """(client_id, scope) of a test user who logs in with client_credentials, else inconclusive."""
    for actor in (accounts.auditor, accounts.hp, accounts.hp_other):
        login = http.login_settings(actor)
        if login.login == "client_credentials":
            return login.client, login.scope
    inconclusive("no test user of the SUT file logs in with client_credentials (SMART Backend Services)")


def _form(client_id: str, scope: str, assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}


def _no_token(response, what: str) -> None:
    assert response.status_code != 200 or b"access_token" not in response.content, (
        f"{what} obtained a token ({response.line}, HTTP {response.status_code})")
    assert response.status_code in (400, 401), (
        f"{what}: {response.describe()}; RFC 6749 5.2 says 400 or 401")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_signed_assertion_gets_a_token(http, accounts, evidence):
    client_id, scope = _backend_client(http, accounts)
    response = http.token_request(_form(client_id, scope, http.client_assertion(client_id)),
                                  label="private_key_jwt")
    assert response.status_code == 200, (f"a client_credentials request with a valid private_key_jwt assertion was "
                                         f"refused: {response.describe()}")
    assert b"access_token" in response.content, "the token response holds no access_token"
    evidence.note(f"client {client_id} got a token with a signed assertion")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_client_secret_is_not_accepted(http, accounts, evidence):
    client_id, scope = _backend_client(http, accounts)
    basic = base64.b64encode(f"{client_id}:not-a-real-secret".encode()).decode()
    response = http.token_request({"grant_type": "client_credentials", "scope": scope},
                                  headers={"Authorization": f"Basic {basic}"}, label="client_secret_basic")
    _no_token(response, "client_secret_basic")
    response = http.token_request({"grant_type": "client_credentials", "scope": scope, "client_id": client_id,
                                   "client_secret": "not-a-real-secret"}, label="client_secret_post")
    _no_token(response, "client_secret_post")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_replayed_assertion_is_refused(http, accounts, evidence):
    client_id, scope = _backend_client(http, accounts)
    assertion = http.client_assertion(client_id)
    first = http.token_request(_form(client_id, scope, assertion), label="assertion, first use")
    assert first.status_code == 200, f"the first use of a fresh assertion was refused: {first.describe()}"
    again = http.token_request(_form(client_id, scope, assertion), label="assertion, replayed")
    _no_token(again, "a replayed client assertion (same jti)")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_assertion_signed_with_unknown_key_is_refused(http, accounts, evidence):
    from conformance import jose

    client_id, scope = _backend_client(http, accounts)
    payload = http.client_assertion(client_id).split(".")[1]
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()  # genuine claims, fresh jti
    stranger = jose.generate("ES384", kid="stranger")
    forged = jose.sign_jwt(json.loads(claims), stranger)
    _no_token(http.token_request(_form(client_id, scope, forged), label="assertion, unknown key"),
              "an assertion signed with a key the client never registered")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_assertion_for_another_audience_is_refused(http, accounts, evidence):
    client_id, scope = _backend_client(http, accounts)
    assertion = http.client_assertion(client_id, audience="https://other-authorization-server.invalid/token")
    _no_token(http.token_request(_form(client_id, scope, assertion), label="assertion, wrong aud"),
              "an assertion whose aud is another token endpoint")
