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
    """Procedure: take the first test user (auditor, hp, hp_other) whose SUT-file login is client_credentials
    (inconclusive when none is), sign a fresh private_key_jwt assertion with that client's registered key (iss = sub
    = client id, aud = the token endpoint, 240 s lifetime, new jti) and POST a client_credentials request with it
    and the user's scope to the token endpoint. Observed: the answer's status and whether its body contains
    access_token. Decides EHDS-SEC-005: a client_credentials request authenticated with a valid private_key_jwt
    assertion must be accepted, so anything but HTTP 200 with an access_token fails."""
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
    """Procedure: for the same backend client, POST two client_credentials token requests authenticated by a made-up
    shared secret instead of an assertion: once in an HTTP Basic header (client_secret_basic), once as client_id and
    client_secret form fields (client_secret_post). Observed: each answer's status and whether its body contains
    access_token. Decides EHDS-SEC-005: shared client secrets are not the conformant method, so each request must
    get no token and HTTP 400 or 401 (RFC 6749 5.2); as the harness knows no real secret, this shows that a wrong
    secret gets no token, not that the client's real secret would be refused."""
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
    """Procedure: sign one fresh private_key_jwt assertion for the backend client, POST a client_credentials request
    with it (it must get HTTP 200, else the check fails), then POST the same request with the same assertion (same
    jti) again. Observed: the status and body of the second answer. Decides EHDS-SEC-005: an assertion authenticates
    one token request only; a replay that gets a token, or any status other than 400/401, means a captured assertion
    can stand in for the client's key."""
    client_id, scope = _backend_client(http, accounts)
    assertion = http.client_assertion(client_id)
    first = http.token_request(_form(client_id, scope, assertion), label="assertion, first use")
    assert first.status_code == 200, f"the first use of a fresh assertion was refused: {first.describe()}"
    again = http.token_request(_form(client_id, scope, assertion), label="assertion, replayed")
    _no_token(again, "a replayed client assertion (same jti)")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_assertion_signed_with_unknown_key_is_refused(http, accounts, evidence):
    """Procedure: take the claims of a genuine assertion for the backend client (its iss/sub, aud = the token
    endpoint, fresh jti), sign them with a freshly generated ES384 key (kid "stranger") the client never registered,
    and POST a client_credentials request with it. Observed: the answer's status and body. Decides EHDS-SEC-005:
    private_key_jwt authenticates the client only through its registered key, so a token, or any status other than
    400/401, for a signature by another key fails."""
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
    """Procedure: sign an assertion for the backend client with its registered key but with aud
    https://other-authorization-server.invalid/token instead of this token endpoint, and POST a client_credentials
    request with it. Observed: the answer's status and body. Decides EHDS-SEC-005: an assertion is valid only at the
    token endpoint it names; a token, or any status other than 400/401, means an assertion made for another server
    is accepted here."""
    client_id, scope = _backend_client(http, accounts)
    assertion = http.client_assertion(client_id, audience="https://other-authorization-server.invalid/token")
    _no_token(http.token_request(_form(client_id, scope, assertion), label="assertion, wrong aud"),
              "an assertion whose aud is another token endpoint")
