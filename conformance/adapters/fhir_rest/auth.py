"""The OAuth 2.0 / OpenID Connect client side: tokens for the test users.

Three ways to a token: SMART Backend Services (client_credentials with a
private_key_jwt assertion), the OIDC login of a person (authorization code + PKCE,
private_key_jwt), or a token the vendor obtained (``login = "bearer"``).

Credential hygiene lives here: test passwords go only to the configured
authorization server (the SUT's origin, or an origin the SUT file names in
[auth]) and only over https or loopback; every issued token's visible shape (alg,
exp) is kept so the token checks can fail an unsigned or already-expired token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import jose
from conformance.adapter import Actor, ActorKind, Denied
from conformance.adapters.fhir_rest.config import ClientSettings, LoginSettings, Settings, origin_of
from conformance.adapters.fhir_rest.transport import Http, Reply, is_loopback
from conformance.errors import AdapterError, UsageError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Token:
    access_token: str
    expires_at: float
    scope: str
    raw: dict[str, Any] = field(repr=False)
    shape: jose.TokenShape = field(default_factory=lambda: jose.TokenShape("opaque"))
    source: str = ""  # where it came from: "token endpoint", "$ENV" (bearer)

    def __repr__(self) -> str:  # never print the token
        return f"Token(scope={self.scope!r}, shape={self.shape.kind}, source={self.source!r})"


class OAuthClient:
    """Gets tokens for the test users: client assertions, client_credentials, OIDC login."""

    def __init__(self, settings: Settings, http: Http) -> None:
        self.settings = settings
        self.http = http
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._keys: dict[str, Any] = {}

    def smart_configuration(self) -> dict[str, Any]:
        with self._lock:
            if self._config is not None:
                return self._config
        reply = self.http.send("GET", ".well-known/smart-configuration", headers={"Accept": "application/json"},
                               label="SMART discovery")
        config = reply.json() if reply.status_code == 200 else {}
        with self._lock:
            self._config = config if isinstance(config, dict) else {}
            return self._config

    def endpoint(self, name: str) -> str:
        explicit = self.settings.token_endpoint if name == "token_endpoint" else self.settings.authorize_endpoint
        if explicit:
            return explicit
        found = self.smart_configuration().get(name)
        if not isinstance(found, str) or not found:
            raise AdapterError(f"the SUT advertises no {name} at GET {self.settings.base_url}/.well-known/"
                               f"smart-configuration and the SUT file gives none: set [auth] {name} = \"https://...\"")
        return found

    def password_endpoint(self) -> str:
        """The authorization endpoint, only if a password may go there (configured AS; https or loopback)."""
        url = self.endpoint("authorization_endpoint")
        parts = urllib.parse.urlsplit(url)
        if origin_of(url) not in self.settings.auth_origins():
            raise AdapterError(f"refusing to send test passwords to {origin_of(url)}: the SUT advertises it as its "
                               f"authorization endpoint, but it is neither the SUT's origin {self.settings.origin} "
                               "nor an origin named in [auth] (issuer, authorize_endpoint, token_endpoint); name it "
                               "there if it really is your authorization server")
        if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
            raise AdapterError(f"refusing to send test passwords to {origin_of(url)} over plain HTTP; the "
                               "authorization server must use https (plain HTTP is allowed only on loopback)")
        return url

    def _key(self, client: ClientSettings) -> Any:
        if client.client_id not in self._keys:
            if client.private_key is None:
                raise UsageError(f"SUT file: [clients.{client.client_id}] needs private_key (JWK or PEM file)")
            self._keys[client.client_id] = jose.load_key(client.private_key, private=True)
        return self._keys[client.client_id]

    def client_assertion(self, client_id: str, *, audience: str | None = None, lifetime: int = 240) -> str:
        """A private_key_jwt client assertion (RFC 7523, SMART Backend Services)."""
        key = self._key(self.settings.clients[client_id])
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": audience or self.endpoint("token_endpoint"),
                  "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
        return jose.sign_jwt(claims, key)

    def token_request(self, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                      label: str = "token request") -> Reply:
        body = urllib.parse.urlencode(dict(form)).encode("ascii")
        endpoint = self.endpoint("token_endpoint")
        if origin_of(endpoint) not in self.settings.auth_origins():
            raise AdapterError(f"refusing to send a client assertion to {origin_of(endpoint)}: not the SUT's "
                               "origin nor an origin named in [auth]; name it there if it is your token endpoint")
        return self.http.send("POST", endpoint, content=body, label=label,
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Accept": "application/json", **dict(headers or {})})

    @staticmethod
    def _token(reply: Reply, who: str) -> Token:
        if reply.status_code != 200:
            raise Denied(f"token request for {who} refused: {reply.describe()}",
                         details={"status": reply.status_code, "request": reply.line})
        body = reply.json()
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AdapterError(f"token response for {who} ({reply.line}, HTTP 200) has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 300.0
        shape = jose.token_shape(body["access_token"])
        return Token(body["access_token"], time.time() + lifetime, str(body.get("scope", "")), body, shape,
                     f"token endpoint ({reply.line})")

    def login(self, login: LoginSettings, actor: Actor, *, scope: str | None = None, lifetime: int | None = None,
              resource: str | None = None) -> Token:
        """A token for `actor` as `login` says (Denied when refused)."""
        if login.login == "bearer":
            value = os.environ.get(login.token_env, "")
            if not value:
                raise Denied(f"no bearer token in ${login.token_env} (login = \"bearer\" for [{login.name}])")
            shape = jose.token_shape(value)
            expires = shape.exp if shape.exp is not None else time.time() + 3600
            return Token(value, expires, login.scope, {}, shape, f"${login.token_env}")
        extra: dict[str, str] = {}
        if lifetime is not None:
            if not self.settings.lifetime_parameter:
                raise UsageError("a shorter token lifetime was asked for, but the SUT file names no "
                                 "[auth] lifetime_parameter")
            extra[self.settings.lifetime_parameter] = str(lifetime)
        if resource:
            extra["resource"] = resource
        wanted = login.scope if scope is None else scope
        return self.client_credentials(login, wanted, extra) if login.login == "client_credentials" else \
            self._code_login(login, actor, wanted, extra)

    def client_credentials(self, login: LoginSettings, scope: str, extra: Mapping[str, str] | None = None, *,
                           client: str = "") -> Token:
        """SMART Backend Services: a token for `client` (default: the login's) with `scope`."""
        client_id = client or login.client
        form = {"grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.client_assertion(client_id), **dict(extra or {})}
        return self._token(self.token_request(form, label=f"client_credentials for {login.name} ({client_id})"),
                           login.name)

    def _code_login(self, login: LoginSettings, actor: Actor, scope: str, extra: Mapping[str, str]) -> Token:
        client = self.settings.clients[login.client]
        password = str(actor.credentials.get("password", "")) if actor.credentials else ""
        if not actor.identifier or not password:
            raise Denied(f"{actor.kind.value} has no identifier or password to log in with")
        if actor.kind is ActorKind.PATIENT and self.settings.patient_password_scheme == "per-patient":
            password = jose.derive_secret(password, actor.identifier)  # this patient's own sandbox password
        endpoint = self.password_endpoint()
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        form = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
                "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                "aud": self.settings.base_url, "username": actor.identifier, "password": password,
                "actor_kind": actor.kind.value}
        reply = self.http.send("POST", endpoint, content=urllib.parse.urlencode(form).encode("utf-8"),
                               label=f"login of {login.name}",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        if reply.status_code in (400, 401, 403, 429):
            raise Denied(f"login of {actor.identifier} refused: {reply.line} answered HTTP {reply.status_code}",
                         details={"status": reply.status_code, "request": reply.line})
        location = reply.headers.get("location", "")
        if reply.status_code not in (302, 303) or not location:
            raise AdapterError(f"login of {login.name}: {reply.line} answered HTTP {reply.status_code}; expected a "
                               "302/303 redirect carrying an authorization code")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        if query.get("error"):
            raise Denied(f"login of {actor.identifier} refused: {query['error']}")
        if query.get("state") != state or not query.get("code"):
            raise AdapterError(f"login of {login.name}: the redirect of {reply.line} lacks the code or carries "
                               "another state")
        token_form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": client.redirect_uri,
                      "code_verifier": verifier, "client_id": client.client_id,
                      "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.client_assertion(client.client_id),
                      **extra}
        return self._token(self.token_request(token_form, label=f"code exchange for {login.name}"), login.name)
