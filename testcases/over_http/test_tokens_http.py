"""EHDS-SEC-003 / SEC-004: every protected request needs a valid token for THIS server, and a token
opens only what its scopes grant. Each kind of bad token is its own check, so a report says
exactly which one the SUT let through."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import Capability, Denied, NotFound, NotSupported
from conformance.checks import inconclusive
from conformance.errors import UsageError

TOKEN = "EHDS-SEC-003"
#: Statuses that say the route itself is missing: they decide nothing about authorisation.
ROUTE_MISSING = (404, 405, 501)
SCOPE = "EHDS-SEC-004"


def _targets(s, http=None) -> list[tuple[str, str]]:
    """Requests that read health data of the seeded patient (the summary only where $summary is the
    configured fetch)."""
    found = [(f"DocumentReference?patient={s.patient_id}", "the document list"),
             (f"Patient?identifier={s.patient.identifier}", "the patient search")]
    if http is None or http.settings.interactions.get("fetch", "summary") == "summary":
        found.insert(0, (f"Patient/{s.patient_id}/$summary", "the patient summary"))
    return found


def _check_refused(http, refusals, s, token: str | None, what: str) -> None:
    """Each target must be refused; a target whose route is missing (404/405/501) decides nothing."""
    decided = []
    for path, label in _targets(s, http):
        response = http.request("GET", path, token=token, headers={"Accept": "application/fhir+json"},
                                label=f"{what}: {label}")
        if response.status_code in ROUTE_MISSING:
            continue
        refusals.assert_refused(response, f"{label} with {what}", s)
        decided.append(label)
    if not decided:
        inconclusive(f"every request for the patient's data answered 404/405/501 (route missing) with {what}")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_request_without_token_is_refused(http, seeded, refusals, evidence):
    """Procedure: file a patient summary for a fresh patient as the health professional, then GET
    Patient/{id}/$summary (only when the configured fetch is $summary), DocumentReference?patient={id} and
    Patient?identifier={identifier} with no Authorization header; answers 404/405/501 (route missing) are skipped,
    and the check is inconclusive when every request gets one. Observed: the status, body and WWW-Authenticate of
    each answer. Decides EHDS-SEC-003: a request without a bearer token must be refused and reveal no health data,
    so each answer must be 401 or 403 with an OperationOutcome body that contains none of the patient's identifier
    value, family name, birth date or document title, and a 401 carries WWW-Authenticate: Bearer."""
    s = seeded()
    _check_refused(http, refusals, s, None, "no token")
    evidence.note("requests without a bearer token were refused with 401/403 and an OperationOutcome")


#: Searches that return health data on a server that serves them to anyone (no patient needed).
OPEN_SEARCHES = ("Patient?_count=1", "DocumentReference?_count=1", "Observation?_count=1", "AuditEvent?_count=1")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_searches_without_token_serve_no_data(http, evidence):
    """GET a few type-level searches (Patient, DocumentReference, Observation, AuditEvent, ``_count=1``)
    without a token, needing no document filed first (so it decides even when submit does not work).
    Fail when any answers 2xx with a resource other than an empty searchset or an OperationOutcome;
    a 401/403 is the expected answer; 400/404/405 (parameter required, route missing) decide
    nothing. Inconclusive when no search was refused or served."""
    refused, undecided = [], []
    for path in OPEN_SEARCHES:
        response = http.request("GET", path, headers={"Accept": "application/fhir+json"}, label="no token")
        if response.status_code in (401, 403):
            refused.append(response.line)
            continue
        if not 200 <= response.status_code < 300:
            undecided.append(f"{response.line}: HTTP {response.status_code}")
            continue
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        kind = body.get("resourceType") if isinstance(body, dict) else None
        entries = len(body.get("entry") or []) if kind == "Bundle" else 0
        served = (kind == "Bundle" and entries) or kind not in ("Bundle", "OperationOutcome")
        if served:
            raise AssertionError(f"{response.line} without any token answered HTTP {response.status_code} with "
                                 f"{f'{entries} entries' if kind == 'Bundle' else f'a {kind}'}: data is served "
                                 "to anyone; every request for health data needs a valid bearer token")
        undecided.append(f"{response.line}: HTTP {response.status_code}, empty {kind or 'body'}")
    evidence.note(f"refused without a token: {refused}; undecided: {undecided}")
    if not refused:
        inconclusive(f"no search was refused or served without a token ({'; '.join(undecided)})")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_issued_tokens_are_signed_and_current(http, accounts, evidence):
    """Obtain a token for each test user as the SUT file says (the authorization server's, or the
    vendor-supplied bearer token) and inspect what is visible without the issuer's key: a JWS whose
    alg is ``none`` (unsigned) or whose ``exp`` is already past when issued fails. Opaque tokens
    cannot be inspected (noted). The tokens themselves never reach the evidence."""
    seen = []
    for actor in (accounts.hp, accounts.hp_other, accounts.auditor):
        token = http.token(actor)
        seen.append((http.login_settings(actor).name, token))
    seen += http.issued_tokens()
    problems = []
    for name, token in seen:
        evidence.add("token-shape", {"login": name, "source": token.source, **token.shape.to_json()})
        problems += [f"[{name}] token from {token.source}: {p}" for p in token.shape.problems()]
    assert not problems, "; ".join(dict.fromkeys(problems))
    if all(t.shape.kind == "opaque" for _, t in seen):
        inconclusive("every token is opaque: its signature and expiry cannot be inspected by a client")
    evidence.note(f"{len(seen)} tokens inspected: signed, not expired when issued")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_badly_signed_token_is_refused(http, accounts, seeded, refusals, evidence):
    """Procedure: file a patient summary for a fresh patient, obtain the health professional's token and alter it:
    for a JWS the first character of the signature (header and claims kept), for an opaque token the last two
    characters; GET Patient/{id}/$summary (only when the configured fetch is $summary),
    DocumentReference?patient={id} and Patient?identifier={identifier} with it; answers 404/405/501 (route missing)
    are skipped, and the check is inconclusive when every request gets one. Observed: the status, body and
    WWW-Authenticate of each answer. Decides EHDS-SEC-003: a token whose signature does not verify is not a valid
    token, so each answer must be 401 or 403 with an OperationOutcome body that contains none of the patient's
    identifier value, family name, birth date or document title, and a 401 carries WWW-Authenticate: Bearer."""
    s = seeded()
    good = http.token(accounts.hp).access_token
    parts = good.split(".")
    if len(parts) == 3:
        sig = parts[2]
        flipped = ("A" if sig[:1] != "A" else "B") + sig[1:]
        forged = ".".join([parts[0], parts[1], flipped])
        evidence.note("the token is a JWS: its signature was altered, header and claims kept")
    else:
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        evidence.note("the token is opaque: two characters were altered")
    _check_refused(http, refusals, s, forged, "a badly signed token")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_unsigned_token_is_refused(http, accounts, seeded, refusals, evidence):
    """Procedure: file a patient summary for a fresh patient, take the health professional's token (inconclusive
    when it is opaque or its header is not JSON), set alg to none in its header, keep its claims and drop the
    signature; GET Patient/{id}/$summary (only when the configured fetch is $summary),
    DocumentReference?patient={id} and Patient?identifier={identifier} with it; answers 404/405/501 (route missing)
    are skipped, and the check is inconclusive when every request gets one. Observed: the status, body and
    WWW-Authenticate of each answer. Decides EHDS-SEC-003: an unsigned copy of genuine claims is not a valid token,
    so each answer must be 401 or 403 with an OperationOutcome body that contains none of the patient's identifier
    value, family name, birth date or document title, and a 401 carries WWW-Authenticate: Bearer."""
    s = seeded()
    good = http.token(accounts.hp).access_token
    parts = good.split(".")
    if len(parts) != 3:
        inconclusive("the SUT's tokens are opaque, so an alg=none variant cannot be built")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        inconclusive("the token's header is not JSON")
    forged = f"{_b64({**header, 'alg': 'none'})}.{parts[1]}."
    _check_refused(http, refusals, s, forged, "an unsigned (alg=none) copy of a valid token")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_expired_token_is_refused(http, accounts, seeded, refusals, evidence):
    """Procedure: file a patient summary for a fresh patient, ask the authorization server for a health-professional
    token with a 1 s lifetime through the SUT file's [auth] lifetime_parameter (inconclusive when none is named, the
    login is a vendor-supplied token, or the token is still valid more than 30 s later), wait until 1.5 s after its
    expiry and GET Patient/{id}/$summary (only when the configured fetch is $summary),
    DocumentReference?patient={id} and Patient?identifier={identifier} with it; answers 404/405/501 (route missing)
    are skipped, and the check is inconclusive when every request gets one. Observed: the status, body and
    WWW-Authenticate of each answer. Decides EHDS-SEC-003: an expired token is not a valid token, so each answer
    must be 401 or 403 with an OperationOutcome body that contains none of the patient's identifier value, family
    name, birth date or document title, and a 401 carries WWW-Authenticate: Bearer."""
    s = seeded()
    try:
        token = http.token(accounts.hp, lifetime=1)
    except UsageError:
        inconclusive("the SUT file names no [auth] lifetime_parameter, so no short-lived token can be obtained")
    except NotSupported as answer:
        inconclusive(answer.reason)
    wait = token.expires_at - time.time() + 1.5
    if wait > 30:
        inconclusive(f"the authorization server ignored the shorter lifetime (token valid {wait:.0f} s more)")
    time.sleep(max(0.0, wait))
    evidence.note(f"token requested with a 1 s lifetime, used {wait:.1f} s later")
    _check_refused(http, refusals, s, token.access_token, "an expired token")


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
def test_token_for_another_server_is_refused(http, accounts, seeded, refusals, evidence):
    """Procedure: file a patient summary for a fresh patient, obtain a health-professional token with resource = the
    SUT file's [auth] other_audience (inconclusive when none is named or the authorization server will not issue
    one), present it to this server and GET Patient/{id}/$summary (only when the configured fetch is $summary),
    DocumentReference?patient={id} and Patient?identifier={identifier}; answers 404/405/501 (route missing) are
    skipped, and the check is inconclusive when every request gets one. Observed: the status, body and
    WWW-Authenticate of each answer. Decides EHDS-SEC-003: the token must be issued for this server, so each answer
    to a token for another resource server must be 401 or 403 with an OperationOutcome body that contains none of
    the patient's identifier value, family name, birth date or document title, and a 401 carries WWW-Authenticate:
    Bearer."""
    s = seeded()
    other = http.settings.other_audience
    if not other:
        inconclusive("the SUT file names no [auth] other_audience (a resource server the same authorization "
                     "server issues tokens for)")
    try:
        token = http.token(accounts.hp, resource=other)
    except (Denied, NotSupported) as answer:
        inconclusive(f"the authorization server would not issue a token for {other} ({answer.reason})")
    evidence.note(f"token issued for audience {other}, presented to {http.base_url}")
    _check_refused(http, refusals, s, token.access_token, "a token for another resource server")


TOKEN_CHARS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=300)


@pytest.mark.requirement(TOKEN)
@pytest.mark.capability(Capability.HTTP)
@given(token=st.one_of(
    TOKEN_CHARS,
    st.tuples(TOKEN_CHARS, TOKEN_CHARS, TOKEN_CHARS).map(".".join),
    st.builds(lambda h, c: f"{_b64(h)}.{_b64(c)}.", st.dictionaries(st.sampled_from(["alg", "typ", "kid"]),
                                                                     st.sampled_from(["none", "HS256", "at+jwt", ""])),
              st.dictionaries(st.sampled_from(["sub", "scope", "aud", "exp"]), st.text(max_size=20))),
))
def test_random_tokens_are_refused(http, seeded, refusals, evidence, token):
    """Procedure: for each hypothesis example, file a patient summary for a fresh patient and GET
    DocumentReference?patient={id} with a made-up bearer token: 1-300 printable ASCII characters, three such parts
    joined by dots, or an unsigned JWT whose header (alg/typ/kid) and claims (sub/scope/aud/exp) are random.
    Observed: the answer's status, body and WWW-Authenticate. Decides EHDS-SEC-003: no made-up token is valid, so
    every answer must be 401 or 403 with an OperationOutcome body that contains none of the patient's identifier
    value, family name, birth date or document title, and a 401 carries WWW-Authenticate: Bearer (here a 404 is not
    skipped: it fails)."""
    s = seeded()
    response = http.request("GET", f"DocumentReference?patient={s.patient_id}", token=token,
                            headers={"Accept": "application/fhir+json"}, label="random token")
    refusals.assert_refused(response, f"the document list with the made-up token {token[:40]!r}", s)


@pytest.mark.requirement(SCOPE)
@pytest.mark.capability(Capability.HTTP)
def test_down_scoped_token_opens_only_its_scope(http, sut, accounts, seeded, new_patient, documents, refusals,
                                                evidence):
    """Procedure: file a patient summary for a fresh patient; obtain a health-professional token whose scope keeps
    only the non-resource scopes of that login plus {user|patient|system}/Patient.rs (inconclusive when refused or
    not obtainable); fail when any granted resource scope is not on Patient; require a Patient?identifier= search
    with it to answer 200; then require the $summary (when it is the configured fetch), DocumentReference?patient=
    and Bundle/{document} reads, and a POST Bundle of a valid patient summary for another fresh patient, to be
    refused, and that patient not to be found afterwards with the health professional's normal login. Observed: the
    granted scope, each answer's status, body and WWW-Authenticate, and the lookup. Decides EHDS-SEC-004: a token
    scoped to Patient only must open Patient reads and nothing else, so a wider grant, data outside its scope (any
    answer but 401/403 with an OperationOutcome free of the patient's data) or a stored submission fails."""
    s = seeded()
    login = http.login_settings(accounts.hp)
    narrow = " ".join(p for p in login.scope.split() if "/" not in p)
    context = "user" if "user/" in login.scope else "patient" if "patient/" in login.scope else "system"
    narrow = f"{narrow} {context}/Patient.rs".strip()
    try:
        token = http.token(accounts.hp, scope=narrow)
    except (Denied, NotSupported) as answer:
        inconclusive(f"no token with only {context}/Patient.rs could be obtained ({answer.reason})")
    granted = set(token.scope.split()) if token.scope else set()
    evidence.note(f"requested scope {narrow!r}; granted {token.scope!r}")
    wider = sorted(g for g in granted if "/" in g and "Patient." not in g)
    assert not wider, f"the authorization server granted more than was asked for: {wider}"
    ok = http.request("GET", "Patient", token=token.access_token, params={"identifier": s.patient.identifier},
                      headers={"Accept": "application/fhir+json"}, label="within scope: Patient search")
    assert ok.status_code == 200, (f"the down-scoped token was refused even for Patient search (HTTP "
                                   f"{ok.status_code}); the scope check cannot be told apart from a broken token")
    outside = [(p, label) for p, label in _targets(s, http) if not p.startswith("Patient?")]  # Patient.s is in scope
    for path, label in outside + [(f"Bundle/{s.document_id}", "the document")]:
        response = http.request("GET", path, token=token.access_token, headers={"Accept": "application/fhir+json"},
                                label=f"outside scope: {label}")
        refusals.assert_refused(response, f"{label} with a token scoped to Patient only", s)
    stranger = new_patient()
    body = json.dumps(documents.valid("patient-summary", stranger)).encode()
    response = http.request("POST", "Bundle", token=token.access_token, content=body,
                            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
                            label="outside scope: submit")
    refusals.assert_refused(response, "submitting a document with a token scoped to Patient only")
    try:
        pid = sut.login(accounts.hp).find_patient(stranger.identifier)
    except NotFound:
        return
    raise AssertionError(f"a submission refused for lack of scope was stored anyway (patient {pid})")
