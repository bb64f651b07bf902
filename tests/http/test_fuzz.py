"""Fuzzing the server's input handling (hypothesis, derandomized, bounded, loopback only):
random and malformed bodies, headers, paths and query strings never get a 500, every FHIR
error is an OperationOutcome, and nothing is ever stored."""

from __future__ import annotations

import json
import socket
import sqlite3
import ssl
import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.reference.bundles import document, new_patient_identifier

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
SEGMENT = st.one_of(st.sampled_from(["pat-1", "doc-1", "..", "%00", "%2F", "$summary", "x" * 80]),
                    TEXT.filter(bool).map(lambda t: urllib.parse.quote(t, safe="")))


def _json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


@st.composite
def bodies(draw) -> bytes:
    valid = json.dumps(document("patient-summary", "urn:fuzz|never-stored")).encode()
    kind = draw(st.sampled_from(["bytes", "json", "fhir-ish", "truncated", "garbled"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(_json_values())).encode()
    if kind == "fhir-ish":
        value = draw(st.dictionaries(st.sampled_from(["resourceType", "type", "entry", "status", "patient", "id",
                                                      "provision"]), _json_values(), max_size=5))
        value.setdefault("resourceType", draw(st.sampled_from(["Bundle", "Consent", "Patient", "Nope"])))
        return json.dumps(value).encode()
    if kind == "truncated":
        return valid[: draw(st.integers(min_value=0, max_value=len(valid) - 1))]
    at = draw(st.integers(min_value=0, max_value=len(valid) - 1))
    return valid[:at] + draw(st.binary(min_size=1, max_size=8)) + valid[at + 1:]


#: (method, path) pairs aimed at the routes that exist, plus some that do not
ROUTES = st.one_of(
    st.tuples(st.just("POST"), st.sampled_from(["Bundle", "Binary", "Consent"])),
    st.tuples(st.just("GET"), st.sampled_from(["Patient", "DocumentReference", "AuditEvent", "Consent", "metadata"])),
    st.tuples(st.just("GET"), st.one_of(st.builds("Patient/{}".format, SEGMENT),
                                        st.builds("Patient/{}/$summary".format, SEGMENT),
                                        st.builds("Bundle/{}".format, SEGMENT))),
    st.tuples(st.sampled_from(["PUT", "DELETE", "PATCH", "POST"]), st.builds("AuditEvent/{}".format, SEGMENT)),
    st.tuples(st.sampled_from(["GET", "PUT", "DELETE"]), st.one_of(st.builds("Consent/{}".format, SEGMENT),
                                                                   st.builds("Consent/restriction-{}".format, SEGMENT))),
    st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE"]), st.builds("{}/{}".format, SEGMENT, SEGMENT)),
)
PARAMS = st.lists(st.tuples(st.one_of(st.sampled_from(["patient", "identifier", "type", "date", "agent", "_count",
                                                       "_offset", "subject", "status", "purpose"]), TEXT), TEXT),
                  max_size=4)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Content-Type", "Accept", "X-Emergency-Access-Purpose", "X-Purpose-Of-Use",
                     "X-Request-Id", "Authorization", "Prefer", "X-Forwarded-For"]),
    st.one_of(HEADER_VALUE, st.sampled_from(["application/fhir+json", "application/json", "application/cda+xml",
                                             "text/plain", "Bearer", "Bearer x.y.z", "Basic Zm9vOmJhcg=="])),
    max_size=4)


def _counts(served) -> tuple[int, ...]:
    with sqlite3.connect(f"file:{served.service.store.path}?mode=ro", uri=True) as conn:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("patients", "documents", "restrictions", "consents"))


@pytest.fixture(scope="module")
def fuzz_client(served):
    ctx = ssl.create_default_context(cafile=str(served.box.keydir() / "localhost.cert.pem"))
    with httpx.Client(verify=ctx, base_url=served.fhir_base + "/", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def fuzz_tokens(adapter):
    probe, accounts = adapter.http_probe(), adapter.test_accounts()
    hp = adapter.login(accounts.hp)
    ident = new_patient_identifier()
    hp.submit(document("patient-summary", ident))  # a patient exists, so ids and tokens can hit real data
    return {"hp": probe.token(accounts.hp).access_token,
            "patient": probe.token(accounts.patient(ident)).access_token,
            "auditor": probe.token(accounts.auditor).access_token}


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500 or response.status_code == 501, (
        f"{what} -> HTTP {response.status_code}: {response.text[:300]}")
    if response.status_code >= 400 and response.request.url.path.startswith("/fhir/"):
        body = response.json()
        assert body.get("resourceType") == "OperationOutcome", f"{what} -> {response.status_code} without OO"


@FUZZ
@given(route=ROUTES, params=PARAMS,
       headers=HEADERS, body=st.one_of(st.none(), bodies()), who=st.sampled_from([None, "hp", "patient", "auditor"]))
def test_fhir_routes_survive_anything_and_store_nothing(served, fuzz_client, fuzz_tokens, route, params, headers,
                                                       body, who):
    method, route = route
    before = _counts(served)
    headers = dict(headers)
    if body is not None:
        headers.setdefault("Content-Type", "application/fhir+json")
    if who and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {fuzz_tokens[who]}"
    try:
        request = fuzz_client.build_request(method, route.lstrip("/") or "metadata", params=params, headers=headers,
                                            content=body if method in ("POST", "PUT", "PATCH") else None)
    except (httpx.InvalidURL, UnicodeEncodeError, ValueError):
        event("not sendable by the client")
        return  # the client itself cannot send this; nothing reached the server
    try:
        response = fuzz_client.send(request)
    except httpx.LocalProtocolError:  # h11 refuses it before sending (e.g. a header value of one space)
        event("not sendable by the client")
        return
    event(f"HTTP {response.status_code}")
    _check(response, f"{method} {route} params={params!r} headers={sorted(headers)}")
    assert _counts(served) == before, (f"{method} {route} stored something (patients, documents, restrictions, "
                                       "consents)")


@settings(FUZZ, max_examples=80)
@given(path=st.sampled_from(["Bundle", "Consent"]), body=bodies())
def test_submissions_that_reach_the_ehr_are_rejected_and_not_stored(served, fuzz_client, fuzz_tokens, path, body):
    before = _counts(served)
    who = "hp" if path == "Bundle" else "patient"
    response = fuzz_client.post(path, content=body, headers={"Content-Type": "application/fhir+json",
                                                              "Authorization": f"Bearer {fuzz_tokens[who]}"})
    event(f"{path}: HTTP {response.status_code}")
    _check(response, f"POST {path} {body[:60]!r}")
    assert response.status_code in (400, 403, 404, 413, 422), f"POST {path} {body[:80]!r} -> {response.status_code}"
    assert _counts(served) == before


@FUZZ
@given(form=st.dictionaries(st.one_of(st.sampled_from(["grant_type", "scope", "client_assertion_type",
                                                       "client_assertion", "client_id", "code", "redirect_uri",
                                                       "code_verifier", "resource", "expires_in", "username",
                                                       "password", "actor_kind", "response_type",
                                                       "code_challenge", "code_challenge_method", "state"]), TEXT),
                            st.one_of(TEXT, st.sampled_from(["client_credentials", "authorization_code", "ehr-app",
                                                             "log-review", "a.b.c", "-1", "99999999999999999999"])),
                            max_size=8),
       endpoint=st.sampled_from(["token", "authorize"]), raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_oauth_endpoints_survive_anything(served, fuzz_client, form, endpoint, raw):
    before = _counts(served)
    url = f"{served.server.url}/auth/{endpoint}"
    response = fuzz_client.post(url, content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}) \
        if raw is not None else fuzz_client.post(url, data=form)
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, f"POST /auth/{endpoint} {form!r} -> {response.status_code}"
    assert response.status_code != 200 or endpoint != "token", "a made-up token request got a token"
    assert _counts(served) == before


@pytest.mark.parametrize("length", [b"-1", b"abc", b"99999999999999999999", b"10, 20"])
def test_nonsense_content_length_is_refused_cleanly(served, length):
    host, port = served.server.sock.getsockname()[:2]
    ctx = ssl.create_default_context(cafile=str(served.box.keydir() / "localhost.cert.pem"))
    with socket.create_connection((host, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(b"POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                    b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\n{}")
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:300]
