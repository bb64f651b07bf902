"""The authorization server's rules without HTTP: client assertions, tokens, codes, scopes, and the
FHIR shapes (Consent <-> Restriction). Real keys (jwcrypto), no mocks."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from jwcrypto import jwt

from conformance.adapter import ActorKind, DocumentInfo, Restriction
from conformance import fhirmap
from conformance import jose as keys
from conformance.server import scopes, shapes
from conformance.server.config import Accountable, AuthConfig, ClientRegistration
from conformance.server.tokens import AuthorizationServer, OAuthError, TokenRejected, Urls

URLS = Urls("https://ehr.test")
PRINCIPAL = {"kind": "health-professional", "identifier": "urn:hp|alice", "name": "Alice",
             "organisation": {"identifier": "urn:org|north", "name": "North"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def client_keys():
    return {"es": keys.generate("ES384", kid="es"), "rs": keys.generate("RS384", kid="rs")}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(client_keys, clock) -> AuthorizationServer:
    config = AuthConfig.generate()
    config.register(ClientRegistration("backend", (_public(client_keys["rs"]),),
                                       scopes=("system/AuditEvent.rs",),
                                       acts_as=Accountable(ActorKind.AUDITOR, "urn:a|dpo", "DPO")))
    config.register(ClientRegistration("app", (_public(client_keys["es"]),), scopes=("openid", "user/*.cruds"),
                                       grant_types=frozenset({"authorization_code"}),
                                       redirect_uris=("http://127.0.0.1/cb",)))
    return AuthorizationServer(config, clock=clock)


def _public(key):
    from jwcrypto import jwk

    return jwk.JWK(**key.export_public(as_dict=True))


def assertion(key, *, iss="backend", sub=None, aud=URLS.token_endpoint, exp_in=120, jti="j1", alg=None, now=None,
              header_extra=None) -> str:
    now = now or 1_800_000_000
    claims = {"iss": iss, "sub": sub or iss, "aud": aud, "exp": now + exp_in, "iat": now, "jti": jti}
    token = jwt.JWT(header={"alg": alg or keys.alg_for(key), "kid": key.get("kid"), **(header_extra or {})},
                    claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def form(value: str) -> dict[str, str]:
    return {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": value}


def test_a_signed_assertion_authenticates_its_client(server, client_keys):
    assert server.authenticate_client(form(assertion(client_keys["rs"])), URLS.token_endpoint).client_id == "backend"


@pytest.mark.parametrize("change, fragment", [
    ({"aud": "https://elsewhere/token"}, "aud"),
    ({"exp_in": -5}, "expired"),
    ({"exp_in": 3600}, "in the future"),
    ({"sub": "someone-else"}, "sub must equal iss"),
    ({"iss": "nobody"}, "unknown client"),
    ({"jti": ""}, "jti"),
])
def test_bad_assertions_are_refused(server, client_keys, change, fragment):
    with pytest.raises(OAuthError) as caught:
        server.authenticate_client(form(assertion(client_keys["rs"], **change)), URLS.token_endpoint)
    assert caught.value.error == "invalid_client" and fragment in caught.value.description
    assert caught.value.status == 401


def test_an_assertion_is_single_use(server, client_keys):
    value = assertion(client_keys["rs"], jti="once")
    server.authenticate_client(form(value), URLS.token_endpoint)
    with pytest.raises(OAuthError, match="replay"):
        server.authenticate_client(form(value), URLS.token_endpoint)


def test_an_assertion_signed_by_another_key_is_refused(server):
    with pytest.raises(OAuthError, match="signature"):
        server.authenticate_client(form(assertion(keys.generate("RS384", kid="rs"))), URLS.token_endpoint)


def test_symmetric_and_unsigned_assertions_are_refused(server, client_keys):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    payload = assertion(client_keys["rs"]).split(".")[1]
    with pytest.raises(OAuthError, match="alg"):
        server.authenticate_client(form(f"{header}.{payload}."), URLS.token_endpoint)
    with pytest.raises(OAuthError, match="not a signed JWT"):
        server.authenticate_client(form("garbage"), URLS.token_endpoint)


def test_client_secrets_are_refused(server):
    with pytest.raises(OAuthError, match="client_secret_basic"):
        server.authenticate_client({}, URLS.token_endpoint, "Basic YmFja2VuZDpzZWNyZXQ=")
    with pytest.raises(OAuthError, match="secrets"):
        server.authenticate_client({"client_secret": "x"}, URLS.token_endpoint)


def _issue(server, **kwargs):
    client = server.config.clients["backend"]
    return server.issue_access_token(issuer=URLS.issuer, audience=kwargs.pop("audience", URLS.fhir_base),
                                     client=client, principal=PRINCIPAL, scopes=("system/AuditEvent.rs",), **kwargs)


def test_access_tokens_carry_identity_scope_and_expiry(server):
    token, ttl = _issue(server)
    grant = server.verify_access_token(token, issuer=URLS.issuer, audience=URLS.fhir_base)
    assert grant.scopes == ("system/AuditEvent.rs",) and grant.principal["identifier"] == "urn:hp|alice"
    assert ttl == server.config.token_lifetime
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["SubjectNameID"] == "alice" and claims["SubjectOrganizationId"] == "urn:org|north"


def test_a_shorter_lifetime_can_be_asked_for_never_a_longer_one(server, clock):
    token, ttl = _issue(server, lifetime=1)
    assert ttl == 1
    clock.now += 1
    with pytest.raises(TokenRejected, match="expired"):
        server.verify_access_token(token, issuer=URLS.issuer, audience=URLS.fhir_base)
    assert _issue(server, lifetime=10**6)[1] == server.config.token_lifetime


def test_tokens_for_another_audience_or_issuer_are_refused(server):
    token, _ = _issue(server, audience="https://other/fhir")
    with pytest.raises(TokenRejected, match="audience"):
        server.verify_access_token(token, issuer=URLS.issuer, audience=URLS.fhir_base)
    token, _ = _issue(server)
    with pytest.raises(TokenRejected, match="another authorization server"):
        server.verify_access_token(token, issuer="https://evil/auth", audience=URLS.fhir_base)


def test_tampered_and_id_tokens_are_not_access_tokens(server):
    token, _ = _issue(server)
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["scope"] = "system/*.cruds"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenRejected, match="signature"):
        server.verify_access_token(f"{head}.{forged}.{sig}", issuer=URLS.issuer, audience=URLS.fhir_base)
    id_token = server.issue_id_token(issuer=URLS.issuer, client=server.config.clients["app"], principal=PRINCIPAL)
    with pytest.raises(TokenRejected, match="not an access token"):
        server.verify_access_token(id_token, issuer=URLS.issuer, audience=URLS.fhir_base)
    with pytest.raises(TokenRejected):
        server.verify_access_token("a.b", issuer=URLS.issuer, audience=URLS.fhir_base)


def test_authorization_codes_need_pkce_the_same_client_and_are_single_use(server):
    app = server.config.clients["app"]
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = server.new_code(app, "http://127.0.0.1/cb", PRINCIPAL, ("openid",), challenge)
    with pytest.raises(OAuthError, match="PKCE"):
        server.redeem_code(app, code, "http://127.0.0.1/cb", "wrong")
    code = server.new_code(app, "http://127.0.0.1/cb", PRINCIPAL, ("openid",), challenge)
    with pytest.raises(OAuthError, match="another client"):
        server.redeem_code(server.config.clients["backend"], code, "http://127.0.0.1/cb", verifier)
    code = server.new_code(app, "http://127.0.0.1/cb", PRINCIPAL, ("openid",), challenge)
    assert server.redeem_code(app, code, "http://127.0.0.1/cb", verifier).principal == PRINCIPAL
    with pytest.raises(OAuthError, match="unknown, used or expired"):
        server.redeem_code(app, code, "http://127.0.0.1/cb", verifier)


@pytest.mark.parametrize("text, resource, perms", [
    ("user/Patient.rs", "Patient", {"r", "s"}),
    ("system/*.read", "*", {"r", "s"}),
    ("patient/Consent.cud", "Consent", {"c", "u", "d"}),
    ("user/Observation.*", "Observation", set("cruds")),
])
def test_smart_scopes_v1_and_v2_are_understood(text, resource, perms):
    parsed = scopes.parse(text)
    assert parsed is not None and parsed.resource == resource and parsed.permissions == perms


@pytest.mark.parametrize("text", ["openid", "user/Patient.sr", "user/Patient.rr", "admin/Patient.r", "user/patient.r"])
def test_malformed_or_non_resource_scopes_grant_no_resource_access(text):
    assert scopes.parse(text) is None
    assert not scopes.permits(text, "Patient", "r")


def test_granting_never_widens_a_request():
    granted = scopes.grant("openid user/Patient.rs user/AuditEvent.d system/Patient.r", ["openid", "user/Patient.rs"])
    assert granted == ["openid", "user/Patient.rs"]
    assert scopes.permits(granted, "Patient", "s") and not scopes.permits(granted, "DocumentReference", "s")


def test_consent_and_restriction_round_trip():
    restriction = Restriction(frozenset({"doc-1", "doc-2"}), frozenset({"laboratory"}))
    resource = shapes.consent("pat-1", restriction)
    assert shapes.restriction_from_consent(resource) == ("pat-1", restriction)
    assert shapes.restriction_from_consent({**resource, "status": "inactive"}) == ("pat-1", Restriction())


@pytest.mark.parametrize("change, where", [
    ({"patient": {"reference": "Group/1"}}, "Consent.patient"),
    ({"status": "draft"}, "Consent.status"),
    ({"provision": {"provision": [{"type": "deny", "data": [{"reference": {"reference": "Observation/1"}}]}]}},
     "Consent.provision.provision[0].data[0].reference"),
    ({"provision": {"provision": [{"type": "deny", "code": [{"coding": [{"code": "12345-6"}]}]}]}},
     "Consent.provision.provision[0].code[0]"),
    ({"provision": {"provision": "deny"}}, "Consent.provision.provision"),
])
def test_unusable_consents_name_the_element(change, where):
    resource = {**shapes.consent("pat-1", Restriction()), **change}
    with pytest.raises(shapes.ConsentError, match=where.replace("[", r"\[").replace("]", r"\]")):
        shapes.restriction_from_consent(resource)


def test_document_type_search_tokens_map_to_categories():
    assert shapes.categories_for_type("http://loinc.org|60591-5") == {"patient-summary"}
    assert shapes.categories_for_type("http://loinc.org|85430-7,http://loinc.org|18748-4") == {"imaging"}
    assert shapes.categories_for_type("http://snomed.info/sct|60591-5") is None
    assert shapes.categories_for_type("99999-9") is None
    ref = shapes.document_reference("https://x/fhir", DocumentInfo("d1", "p1", "laboratory", "Lab", "2025-01-02"))
    assert ref["type"]["coding"][0]["code"] == "11502-2" and ref["date"] == "2025-01-02T00:00:00Z"
    assert ref["content"][0]["attachment"]["url"] == "https://x/fhir/Bundle/d1"
    assert "custodian" not in ref  # none reported, none invented
    assert [shapes.document_reference("b", DocumentInfo("d", "p", "laboratory", date=d))["date"]
            for d in ("2025", "2025-01", "2025-01-02T10:00:00+01:00")] == [
        "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-01-02T10:00:00+01:00"]


def test_the_custodian_survives_the_document_reference_both_ways():
    info = DocumentInfo("d1", "p1", "laboratory", "Lab", "2025-01-02T10:00:00+01:00", custodian="urn:org|lab-9")
    ref = shapes.document_reference("https://x/fhir", info)
    assert ref["custodian"]["identifier"] == {"system": "urn:org", "value": "lab-9"}
    assert fhirmap.document_info(ref) == info
    contained = {**ref, "custodian": {"reference": "#o"},
                 "contained": [{"resourceType": "Organization", "id": "o", "identifier": [{"system": "urn:org",
                                                                                           "value": "lab-9"}]}]}
    assert fhirmap.document_info(contained).custodian == "urn:org|lab-9"
    literal = {**ref, "custodian": {"reference": "Organization/o-1"}}
    assert fhirmap.document_info(literal).custodian is None  # read by the fhir adapter, not guessed here
    assert fhirmap.document_info({k: v for k, v in ref.items() if k != "custodian"}).custodian is None


def test_the_custodian_of_a_document_is_its_composition_custodian():
    from tests.reference.bundles import document

    doc = document("laboratory", "urn:x|1", custodian=("urn:org", "lab-1", "Lab One"))
    assert fhirmap.document_custodian(doc) == "urn:org|lab-1"
    comp = doc["entry"][0]["resource"]
    comp["custodian"] = {"identifier": {"system": "urn:org", "value": "lab-2"}, "display": "Lab Two"}
    assert fhirmap.document_custodian(doc) == "urn:org|lab-2"
    del comp["custodian"]
    assert fhirmap.document_custodian(doc) is None


def test_key_files_round_trip_and_are_checked(tmp_path):
    private, public = keys.write_test_keypair(tmp_path, "c1", "RS384")
    assert keys.load_key(private, private=True).has_private
    assert not keys.load_key(private, private=False).has_private
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="public key"):
        keys.load_key(public, private=True)
    (tmp_path / "bad.json").write_text("{\"kty\": \"nope\"}")
    with pytest.raises(UsageError, match="not a usable key"):
        keys.load_key(tmp_path / "bad.json")
    with pytest.raises(UsageError, match="cannot read key file"):
        keys.load_key(tmp_path / "missing.json")
