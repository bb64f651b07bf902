"""The authorization server's core, without HTTP: client authentication by signed JWT
assertion (private_key_jwt), access and ID tokens, authorization codes, token checks.

Why separate from the routes: every rule that decides whether a token or an
assertion is good lives here, testable with plain function calls, and the routes
only translate form fields and status codes. Cryptography is jwcrypto's; this
module only decides which claims must hold.

Access tokens are JWTs (``typ: at+jwt``, RFC 9068 shape) signed ES384 by the
server: ``iss``, ``aud`` (the FHIR base), ``sub``, ``exp``, ``iat``, ``jti``,
``client_id``, ``scope``, and the identity of the person (``principal``, plus the
Pro Santé Connect-style claims ``SubjectNameID``, ``SubjectOrganization``,
``SubjectOrganizationId`` for health professionals).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import jose as keys
from conformance.server.config import AuthConfig, ClientRegistration

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_TYPE = "at+jwt"


class OAuthError(Exception):
    """An OAuth 2.0 error response (RFC 6749 §5.2): `error` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class TokenRejected(Exception):
    """A bearer token that does not let its holder in. `status` 401 (not valid) or 403 (scope)."""

    def __init__(self, reason: str, status: int = 401, *, code: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason, self.status, self.code = reason, status, code


@dataclass(frozen=True)
class AccessGrant:
    """What a verified access token says."""

    client_id: str
    subject: str
    scopes: tuple[str, ...]
    principal: Mapping[str, Any]
    expires: int
    token_id: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    principal: dict[str, Any]
    scopes: tuple[str, ...]
    challenge: str
    nonce: str
    expires: float


unverified_parts = keys.unverified_parts


def _audiences(claims: Mapping[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def principal_claims(principal: Mapping[str, Any]) -> dict[str, Any]:
    """Identity claims for tokens: ours (``principal``) and the Pro Santé Connect shape."""
    out: dict[str, Any] = {"principal": dict(principal), "name": principal.get("name", "")}
    ident = str(principal.get("identifier", ""))
    out["SubjectNameID"] = ident.split("|", 1)[1] if "|" in ident else ident
    org = principal.get("organisation")
    if org:
        out["SubjectOrganization"] = org.get("name", "")
        out["SubjectOrganizationId"] = org.get("identifier", "")
    if principal.get("patient_id"):
        out["patient"] = principal["patient_id"]
    return out


class AuthorizationServer:
    """Issues and checks tokens for one :class:`AuthConfig` (thread-safe)."""

    def __init__(self, config: AuthConfig, *, clock: Any = time.time) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._seen_jti: dict[str, float] = {}
        self._codes: dict[str, _Code] = {}

    # ---- client authentication (private_key_jwt, RFC 7523 / SMART Backend Services) --------

    def authenticate_client(self, form: Mapping[str, str], token_endpoint: str,
                            authorization: str | None = None) -> ClientRegistration:
        """The client a token request comes from, proven by its signed assertion; OAuthError otherwise."""
        if authorization and authorization.split(" ", 1)[0].lower() == "basic":
            raise OAuthError("invalid_client", "client_secret_basic is not accepted: authenticate with a "
                             "private_key_jwt client assertion (SMART Backend Services)", 401)
        if form.get("client_secret"):
            raise OAuthError("invalid_client", "client secrets are not accepted: use a private_key_jwt client "
                             "assertion", 401)
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_client", f"client_assertion_type must be {ASSERTION_TYPE}", 401)
        assertion = form.get("client_assertion") or ""
        try:
            header, claims = unverified_parts(assertion)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", f"client_assertion is not a signed JWT: {exc}", 401) from None
        alg = header.get("alg")
        if alg not in keys.SMART_ALGS:
            raise OAuthError("invalid_client", f"client_assertion alg {alg!r} is not accepted; use "
                             f"{' or '.join(keys.SMART_ALGS)}", 401)
        client_id = claims.get("iss")
        client = self.config.clients.get(client_id) if isinstance(client_id, str) else None
        if client is None:
            raise OAuthError("invalid_client", "unknown client (assertion iss)", 401)
        if form.get("client_id") and form["client_id"] != client_id:
            raise OAuthError("invalid_client", "client_id does not match the assertion's iss", 401)
        try:
            claims = keys.verify_jwt(assertion, client.key_set(), [alg])
        except keys.JoseError:
            raise OAuthError("invalid_client", "client_assertion signature does not verify with the client's "
                             "registered keys", 401) from None
        now = self.clock()
        if claims.get("sub") != client_id:
            raise OAuthError("invalid_client", "client_assertion sub must equal iss (the client_id)", 401)
        if token_endpoint not in _audiences(claims):
            raise OAuthError("invalid_client", f"client_assertion aud must be the token endpoint {token_endpoint}",
                             401)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now - self.config.clock_skew:
            raise OAuthError("invalid_client", "client_assertion is expired or has no exp", 401)
        if exp > now + self.config.assertion_max_lifetime + self.config.clock_skew:
            raise OAuthError("invalid_client", f"client_assertion exp is more than "
                             f"{self.config.assertion_max_lifetime} s in the future", 401)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise OAuthError("invalid_client", "client_assertion needs a jti", 401)
        with self._lock:
            self._seen_jti = {k: v for k, v in self._seen_jti.items() if v > now}
            key = f"{client_id}\x00{jti}"
            if key in self._seen_jti:
                raise OAuthError("invalid_client", "client_assertion jti was already used (replay)", 401)
            self._seen_jti[key] = float(exp)
        return client

    # ---- authorization codes (OIDC login of a person, PKCE S256 required) --------------------

    def new_code(self, client: ClientRegistration, redirect_uri: str, principal: Mapping[str, Any],
                 scopes: tuple[str, ...], challenge: str, nonce: str = "") -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._codes = {k: v for k, v in self._codes.items() if v.expires > now}
            self._codes[code] = _Code(client.client_id, redirect_uri, dict(principal), scopes, challenge, nonce,
                                      now + self.config.code_lifetime)
        return code

    def redeem_code(self, client: ClientRegistration, code: str, redirect_uri: str, verifier: str) -> _Code:
        with self._lock:
            record = self._codes.pop(code, None)
        if record is None or record.expires <= self.clock():
            raise OAuthError("invalid_grant", "unknown, used or expired authorization code")
        if record.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the authorization code was issued to another client")
        if record.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the one of the authorization request")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not verifier or not hmac.compare_digest(digest.rstrip(b"=").decode("ascii"), record.challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)")
        return record

    # ---- tokens ------------------------------------------------------------------------------

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        return keys.sign_jwt(claims, self.config.signing_key, typ=typ)

    def issue_access_token(self, *, issuer: str, audience: str, client: ClientRegistration,
                           principal: Mapping[str, Any], scopes: tuple[str, ...],
                           lifetime: int | None = None) -> tuple[str, int]:
        """(token, expires_in). `lifetime` may shorten, never lengthen, the configured lifetime."""
        ttl = self.config.token_lifetime if lifetime is None else max(1, min(int(lifetime),
                                                                              self.config.token_lifetime))
        now = int(self.clock())
        claims = {
            "iss": issuer, "aud": audience, "sub": str(principal.get("identifier", client.client_id)),
            "client_id": client.client_id, "scope": " ".join(scopes), "iat": now, "exp": now + ttl,
            "jti": secrets.token_urlsafe(16), **principal_claims(principal),
        }
        return self._sign(claims, ACCESS_TOKEN_TYPE), ttl

    def issue_id_token(self, *, issuer: str, client: ClientRegistration, principal: Mapping[str, Any],
                       nonce: str = "") -> str:
        now = int(self.clock())
        claims = {"iss": issuer, "aud": client.client_id, "sub": str(principal.get("identifier", "")),
                  "iat": now, "exp": now + self.config.token_lifetime, **principal_claims(principal)}
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims, "JWT")

    def verify_access_token(self, token: str, *, issuer: str, audience: str) -> AccessGrant:
        """Check signature, type, issuer, audience and expiry; TokenRejected(401) otherwise."""
        try:
            header, _ = unverified_parts(token)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise TokenRejected("the bearer token is not a token this server issued") from None
        key = self.config.signing_key
        if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("kid") != key.get("kid"):
            raise TokenRejected("the bearer token is not an access token of this server")
        try:
            claims = keys.verify_jwt(token, key, [keys.alg_for(key)])
        except keys.JoseError:
            raise TokenRejected("the bearer token's signature does not verify") from None
        now = self.clock()
        if claims.get("iss") != issuer:
            raise TokenRejected("the bearer token was issued by another authorization server")
        if audience not in _audiences(claims):
            raise TokenRejected("the bearer token is for another resource server (audience)")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now - self.config.clock_skew:
            raise TokenRejected("the bearer token has expired")
        scope = claims.get("scope")
        principal = claims.get("principal")
        if not isinstance(scope, str) or not isinstance(principal, dict):
            raise TokenRejected("the bearer token lacks scope or identity claims")
        return AccessGrant(client_id=str(claims.get("client_id", "")), subject=str(claims.get("sub", "")),
                           scopes=tuple(scope.split()), principal=principal, expires=int(exp),
                           token_id=str(claims.get("jti", "")))


@dataclass
class Urls:
    """The URLs of one deployment, from its public origin."""

    origin: str
    issuer: str = field(init=False)
    fhir_base: str = field(init=False)
    token_endpoint: str = field(init=False)
    authorize_endpoint: str = field(init=False)
    jwks_uri: str = field(init=False)

    def __post_init__(self) -> None:
        self.origin = self.origin.rstrip("/")
        self.issuer = self.origin + "/auth"
        self.fhir_base = self.origin + "/fhir"
        self.token_endpoint = self.issuer + "/token"
        self.authorize_endpoint = self.issuer + "/authorize"
        self.jwks_uri = self.issuer + "/jwks"
