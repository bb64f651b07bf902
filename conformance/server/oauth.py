"""The authorization server's HTTP side: token endpoint, OIDC login (authorization code + PKCE),
JWKS and discovery documents.

Two ways to a token, both with a private_key_jwt client assertion (no client secrets):

- SMART Backend Services: ``grant_type=client_credentials``; the token is for the
  accountable person the client is registered to act for (``acts_as``).
- OpenID Connect login of a person (the Pro Santé Connect shape): the browser (or
  the harness) posts identifier + password to ``/auth/authorize``; the EHR checks them
  (:meth:`ReferenceEHR.authenticate`), the server redirects with a code, the client
  exchanges it at ``/auth/token`` for an access token and an ID token that carry the
  person's identifier and organisation.

A test convenience, documented in smart-configuration: the token endpoint honours an
``expires_in`` form parameter that can only SHORTEN a token's lifetime (so a harness
can obtain an expired token without waiting).
"""

from __future__ import annotations

import html
import threading
import time
import urllib.parse
from collections import deque
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from conformance import jose
from conformance.adapter import ActorKind, Denied
from conformance.server import scopes, shapes
from conformance.server.config import ClientRegistration
from conformance.server.gateway import Gateway
from conformance.server.http import BodyTooLarge, json_response, parse_form, read_body
from conformance.jose import public_jwks
from conformance.server.tokens import OAuthError, TokenRejected, principal_claims

LOGIN_KINDS = {k.value: k for k in (ActorKind.HEALTH_PROFESSIONAL, ActorKind.PATIENT, ActorKind.AUDITOR)}
FORM_LIMIT = 64_000
#: The login page may not be framed (clickjacking) and loads nothing from elsewhere.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                          "frame-ancestors 'none'",
                "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
REFUSED_PATIENT_PASSWORD = "\x00refused"  # never any account's password: the service refuses (and logs) it


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status, headers=PAGE_HEADERS)


class LoginThrottle:
    """Failed logins per identifier and per client address within a sliding window.

    Why: the login form takes passwords; without a limit it is a password-guessing
    oracle. Over the limit the form answers 429 without checking the password.
    """

    def __init__(self, attempts: int, window: float, clock: Any = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] > self.window:
            found.popleft()
        return found

    def blocked(self, identifier: str, address: str) -> float:
        """Seconds to wait before trying again (0: not blocked)."""
        with self._lock:
            for key, limit in ((f"id:{identifier}", self.attempts), (f"ip:{address}", self.attempts * 20)):
                recent = self._recent(key)
                if len(recent) >= limit:
                    return max(1.0, self.window - (self.clock() - recent[0]))
        return 0.0

    def failed(self, identifier: str, address: str) -> None:
        with self._lock:
            for key in (f"id:{identifier}", f"ip:{address}"):
                self._recent(key).append(self.clock())

    def succeeded(self, identifier: str) -> None:
        with self._lock:
            self._failures.pop(f"id:{identifier}", None)


def _throttle(gw: Gateway) -> LoginThrottle:
    throttle = getattr(gw, "login_throttle", None)
    if throttle is None:
        throttle = gw.login_throttle = LoginThrottle(gw.config.login_attempts, gw.config.login_window)
    return throttle


def patient_password(gw: Gateway, identifier: str, given: str) -> str:
    """What the EHR checks for a patient login: the sandbox master when `given` is this patient's own
    password (derive_secret(master, identifier)), else a value that is refused and logged."""
    master = gw.config.patient_master
    if not master:
        return given  # no per-patient derivation configured: the EHR's own rule
    import hmac

    own = jose.derive_secret(master, identifier)
    return master if given and hmac.compare_digest(given, own) else REFUSED_PATIENT_PASSWORD


def _all_scopes(gw: Gateway) -> list[str]:
    return sorted({s for c in gw.config.clients.values() for s in c.scopes})


def userinfo_claims(principal: Any) -> dict[str, Any]:
    """Identity claims plus a SubjectRefPro-like block naming the organisation the person works for."""
    claims = principal_claims(principal)
    claims.pop("principal", None)
    org = principal.get("organisation") if isinstance(principal, dict) else None
    if org:
        claims["SubjectRefPro"] = {"exercices": [{"activities": [{"raisonSocialeSite": org.get("name", ""),
                                                                  "identifiantStructure": org.get("identifier", "")}]}]}
    return claims


def _oauth_error(exc: OAuthError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_client"'} if exc.status == 401 else {}
    return json_response(exc.to_json(), exc.status, headers)


def _scopes_for(kind: ActorKind, granted: list[str]) -> list[str]:
    """Patients get patient/ scopes, professionals and auditors user/ scopes (and the OIDC ones)."""
    context = "patient" if kind is ActorKind.PATIENT else "user"
    out = []
    for item in granted:
        parsed = scopes.parse(item)
        if parsed is None or parsed.context == context:
            out.append(item)
    return out


def add_routes(app: FastAPI, gw: Gateway) -> None:
    @app.get("/fhir/.well-known/smart-configuration")
    async def smart_configuration(request: Request) -> Response:
        u = gw.urls(request)
        body = shapes.smart_configuration(issuer=u.issuer, token_endpoint=u.token_endpoint,
                                          authorize_endpoint=u.authorize_endpoint, jwks_uri=u.jwks_uri,
                                          scopes=_all_scopes(gw))
        body["token_lifetime_parameter"] = "expires_in"
        return json_response(body)

    @app.get("/auth/.well-known/openid-configuration")
    async def openid_configuration(request: Request) -> Response:
        u = gw.urls(request)
        return json_response(shapes.openid_configuration(issuer=u.issuer, token_endpoint=u.token_endpoint,
                                                         authorize_endpoint=u.authorize_endpoint,
                                                         jwks_uri=u.jwks_uri, scopes=_all_scopes(gw)))

    @app.get("/auth/userinfo")
    async def userinfo(request: Request) -> Response:
        """OIDC UserInfo: who the token's person is (identifier and organisation, Pro Santé Connect shape)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        u = gw.urls(request)
        try:
            if scheme.lower() != "bearer":
                raise TokenRejected("send the access token as a Bearer token")
            grant = gw.auth.verify_access_token(token.strip(), issuer=u.issuer, audience=u.fhir_base)
        except TokenRejected as exc:
            return json_response({"error": "invalid_token", "error_description": exc.reason}, 401,
                                 {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if "openid" not in grant.scopes:
            return json_response({"error": "insufficient_scope", "error_description": "the token lacks openid"}, 403,
                                 {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"'})
        return json_response({"sub": grant.subject, **userinfo_claims(grant.principal)})

    @app.get("/auth/jwks")
    async def jwks() -> Response:
        return json_response(public_jwks(gw.config.signing_key))

    @app.post("/auth/token")
    async def token(request: Request) -> Response:
        try:
            form = parse_form(await read_body(request, FORM_LIMIT))
        except BodyTooLarge:
            return json_response({"error": "invalid_request", "error_description": "token request too large"}, 413)
        u = gw.urls(request)
        try:
            client = gw.auth.authenticate_client(form, u.token_endpoint, request.headers.get("authorization"))
            return await _token(request, gw, client, form)
        except OAuthError as exc:
            await gw.log_refused(request, None, None, "login", f"token request refused: {exc.error}")
            return _oauth_error(exc)

    @app.get("/auth/authorize")
    async def authorize_form(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            _authorization_request(gw, params)
        except OAuthError as exc:
            return _html(_page(f"Authorization request refused: {exc.description}", {}), exc.status)
        return _html(_page("", params))

    @app.post("/auth/authorize")
    async def authorize_login(request: Request) -> Response:
        try:
            params = parse_form(await read_body(request, FORM_LIMIT))
        except BodyTooLarge:
            return _html(_page("Login form too large.", {}), 413)
        try:
            client = _authorization_request(gw, params)
        except OAuthError as exc:
            return _html(_page(f"Authorization request refused: {exc.description}", {}), exc.status)
        kind = LOGIN_KINDS.get(params.get("actor_kind", ActorKind.HEALTH_PROFESSIONAL.value))
        if kind is None:
            return _html(_page("Unknown kind of user.", params), 400)
        identifier = params.get("username", "")
        address = request.client.host if request.client else "unknown"
        throttle = _throttle(gw)
        wait = throttle.blocked(identifier, address)
        if wait:
            await gw.log_refused(request, None, None, "login", "login throttled after repeated failures")
            response = _html(_page("Too many failed logins; try again later.", params), 429)
            response.headers["Retry-After"] = str(int(wait))
            return response
        password = params.get("password", "")
        if kind is ActorKind.PATIENT:
            password = patient_password(gw, identifier, password)
        try:
            principal = await gw.call(None, request, gw.service.authenticate, kind, identifier,
                                      {"password": password})
        except Denied as exc:
            throttle.failed(identifier, address)
            return _html(_page(f"Login refused: {exc.reason}", params), 401)
        throttle.succeeded(identifier)
        granted = _scopes_for(principal.kind, scopes.grant(params.get("scope", ""), list(client.scopes)))
        redirect = params["redirect_uri"]
        state = {"state": params["state"]} if params.get("state") else {}
        if not any(scopes.parse(s) for s in granted):
            query = urllib.parse.urlencode({"error": "invalid_scope", **state})
            return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{query}", 302)
        code = gw.auth.new_code(client, redirect, principal.to_json(), tuple(granted), params["code_challenge"],
                                params.get("nonce", ""))
        query = urllib.parse.urlencode({"code": code, **state})
        return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{query}", 302)


async def _token(request: Request, gw: Gateway, client: ClientRegistration, form: dict[str, str]) -> Response:
    u = gw.urls(request)
    grant_type = form.get("grant_type", "")
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client" if grant_type in ("client_credentials", "authorization_code")
                         else "unsupported_grant_type", f"grant_type {grant_type!r} is not allowed for this client")
    lifetime = None
    if form.get("expires_in"):
        try:
            lifetime = int(form["expires_in"])
        except ValueError:
            raise OAuthError("invalid_request", "expires_in must be a whole number of seconds") from None
    audience = form.get("resource") or u.fhir_base
    if audience != u.fhir_base and audience not in gw.config.other_audiences:
        raise OAuthError("invalid_target", "resource is not a resource server of this authorization server")
    id_token = None
    if grant_type == "client_credentials":
        if client.acts_as is None:
            raise OAuthError("unauthorized_client", "this client is not bound to an accountable person")
        granted = scopes.grant(form.get("scope", ""), list(client.scopes))
        granted = [s for s in granted if (p := scopes.parse(s)) is not None and p.context == "system"]
        if not granted:
            raise OAuthError("invalid_scope", "none of the requested scopes is allowed for this client "
                             f"(allowed: {' '.join(client.scopes)})")
        a = client.acts_as
        principal: dict[str, Any] = {"kind": a.kind.value, "identifier": a.identifier, "name": a.name}
        if a.organisation:
            principal["organisation"] = {"identifier": a.organisation.identifier, "name": a.organisation.name}
    else:
        record = gw.auth.redeem_code(client, form.get("code", ""), form.get("redirect_uri", ""),
                                     form.get("code_verifier", ""))
        granted, principal = list(record.scopes), record.principal
        if "openid" in granted:
            id_token = gw.auth.issue_id_token(issuer=u.issuer, client=client, principal=principal, nonce=record.nonce)
    token, expires_in = gw.auth.issue_access_token(issuer=u.issuer, audience=audience, client=client,
                                                   principal=principal, scopes=tuple(granted), lifetime=lifetime)
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
                            "scope": " ".join(granted)}
    if id_token:
        body["id_token"] = id_token
    if principal.get("patient_id"):
        body["patient"] = principal["patient_id"]
    return json_response(body)


def _authorization_request(gw: Gateway, params: dict[str, str]) -> ClientRegistration:
    """Check the OAuth parameters of a login (before any redirect may happen)."""
    client = gw.config.clients.get(params.get("client_id", ""))
    if client is None or "authorization_code" not in client.grant_types:
        raise OAuthError("unauthorized_client", "unknown client, or not registered for the login flow")
    if params.get("redirect_uri") not in client.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
    return client


_HIDDEN = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
           "nonce", "aud")


def _page(message: str, params: dict[str, str]) -> str:
    """The login page (for people; the harness posts the same fields directly)."""
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params[k], quote=True)}">'
                     for k in _HIDDEN if k in params)
    kinds = "".join(f'<option value="{k}">{k}</option>' for k in LOGIN_KINDS)
    note = f"<p role=\"alert\">{html.escape(message)}</p>" if message else ""
    form = ("" if not params else
            f'<form method="post" action="/auth/authorize">{hidden}'
            f'<label>Identifier <input name="username" autocomplete="username"></label> '
            f'<label>Password <input name="password" type="password" autocomplete="current-password"></label> '
            f'<label>I am a <select name="actor_kind">{kinds}</select></label> '
            f'<button type="submit">Log in</button></form>')
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Reference EHR login</title>"
            f"</head><body><h1>Reference EHR login (sandbox)</h1>{note}{form}</body></html>")
