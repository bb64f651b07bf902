"""redact(): every kind of secret is masked wherever it sits; ordinary content survives."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.report.redact import MASK, is_secret_key, redact, redact_counted
from tests.report.samples import JWT


def dumped(obj) -> str:
    return json.dumps(redact(obj))


@pytest.mark.parametrize(
    ("obj", "secret"),
    [
        ({"Authorization": "Bearer abc.def-123"}, "abc.def-123"),
        ({"authorization": "Basic dXNlcjpwYXNzd29yZA=="}, "dXNlcjpwYXNzd29yZA=="),
        ({"Proxy-Authorization": "Digest username=x, response=6629fae49393a05397450978507c4ef1"}, "6629fae4"),
        ({"Cookie": "sid=s3ss10n; theme=dark"}, "s3ss10n"),
        ({"set-cookie": ["sid=s3ss10n; HttpOnly", "csrf=t0k"]}, "s3ss10n"),
        ({"password": "hunter2"}, "hunter2"),
        ({"user_password": "hunter2"}, "hunter2"),
        ({"client_secret": "cs-123"}, "cs-123"),
        ({"clientSecret": "cs-123"}, "cs-123"),
        ({"access_token": "at-123"}, "at-123"),
        ({"refresh-token": "rt-123"}, "rt-123"),
        ({"X-API-Key": "k-123"}, "k-123"),
        ({"private_key": "pk-material"}, "pk-material"),
        ({"credentials": {"user": "dr", "pin": "1234"}}, "1234"),
        ({"kty": "EC", "crv": "P-256", "x": "pubx", "y": "puby", "d": "PRIVATE-D"}, "PRIVATE-D"),
        ({"kty": "oct", "k": "SYMMETRIC-K"}, "SYMMETRIC-K"),
        ([["Authorization", "Bearer zz-99-top"]], "zz-99-top"),
        ([{"name": "Authorization", "value": "Bearer zz-99-top"}], "zz-99-top"),
        ({"note": "sent Authorization: Bearer zz-99-top to the server"}, "zz-99-top"),
        ({"note": "token was " + JWT}, JWT.split(".")[0]),
        ({"note": "header-only eyJhbGciOiJub25lIn0 token"}, "eyJhbGciOiJub25lIn0"),
        ({"url": "https://h/fhir/Patient?_id=1&access_token=qq-77&x=1"}, "qq-77"),
        ({"url": "https://h/cb?code=1&client_secret=qq-77"}, "qq-77"),
        ({"url": "https://alice:pw-77@h/fhir"}, "pw-77"),
        ({"repr": "login(Actor(name='x', password='pw-77'))"}, "pw-77"),
        ({"repr": "{'client_secret': 'pw-77', 'scope': 'openid'}"}, "pw-77"),
        ({"message": 'config {"api_key": "pw-77"} rejected'}, "pw-77"),
        ({"message": "DB_PASSWORD=pw-77 in env"}, "pw-77"),
        ({"message": "got token=abc-def-123 back"}, "abc-def-123"),
        (
            {"pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\nrest"},
            "MIIEpAIBAAKCAQEA7",
        ),
        ({"pem": "-----BEGIN PRIVATE KEY-----\nMIIEvtruncated..."}, "MIIEvtruncated"),
        ({"nested": [{"deep": [{"Authorization": "Bearer n-e-s-t-e-d"}]}]}, "n-e-s-t-e-d"),
    ],
)
def test_secret_is_masked(obj, secret) -> None:
    out = dumped(obj)
    assert secret not in out
    assert "REDACTED" in out


def test_authorization_keeps_scheme_not_credential() -> None:
    assert redact({"Authorization": "Bearer abc"}) == {"Authorization": f"Bearer {MASK}"}
    assert redact({"Authorization": "abc"}) == {"Authorization": MASK}


def test_ordinary_content_survives_unchanged() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "entry": [
            {
                "resource": {
                    "resourceType": "Composition",
                    "title": "Basic information about the patient summary",
                    "section": [{"title": "Digest of medication", "code": {"coding": [{"code": "10160-0"}]}}],
                }
            },
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "248125612345678"}],
                }
            },
        ],
    }
    headers = {"Content-Type": "application/fhir+json", "Location": "https://h/fhir/Bundle/1/_history/1"}
    http = {"kind": "http", "method": "GET", "url": "https://h/fhir/Observation?code=1234-5&patient=7", "status": 200}
    prose = "token_type=Bearer; expires_in=300; Basic information; Digest of medication; tokens: 5"
    for obj in (bundle, headers, http, {"token_type": "Bearer", "expires_in": 300}, prose):
        assert redact(obj) == obj
    assert redact_counted(bundle)[1] == 0


def test_input_is_not_modified() -> None:
    obj = {"password": "x", "list": [{"Cookie": "c=1"}]}
    before = json.dumps(obj)
    redact(obj)
    assert json.dumps(obj) == before


def test_count_is_reported() -> None:
    _, n = redact_counted({"password": "a", "Authorization": "Bearer abcdefgh", "note": "Cookie: x=1"})
    assert n == 3


@pytest.mark.parametrize("key", ["Authorization", "COOKIE", "client-secret", "id_token", "db.password", "apiKey"])
def test_secret_key_names(key) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["resourceType", "token_type", "keyword", "status", "identifier", "expires_in"])
def test_ordinary_key_names(key) -> None:
    assert not is_secret_key(key)


SECRET = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/", min_size=8, max_size=40
)


def _placements(secret: str) -> list[dict]:
    return [
        {"request_headers": {"Authorization": f"Bearer {secret}"}},
        {"request_headers": [["Cookie", f"sid={secret}"]]},
        {"url": f"https://h/fhir/Patient?access_token={secret}"},
        {"url": f"https://user:{secret}@h/fhir"},
        {"repr": f"f(password='{secret}')"},
        {"message": f"Authorization: Bearer {secret}"},
        {"data": {"client_secret": secret}},
    ]


@given(secret=SECRET)
def test_no_placement_of_a_secret_leaks(secret: str) -> None:
    """Wherever a credential is recorded (header, query, userinfo, repr, message), it never survives."""
    assume(secret not in json.dumps(redact(_placements("X"))))  # e.g. secret='password' is a word of the fixed text
    for p in _placements(secret):
        assert secret not in json.dumps(redact(p)), p
