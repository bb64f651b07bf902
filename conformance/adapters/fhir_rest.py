"""The ``fhir`` adapter: any FHIR R4 server over HTTP(S), with OAuth 2.0 / OpenID Connect tokens.

A vendor whose EHR is a FHIR server writes no Python: a SUT file (TOML, given with
``--adapter-config``) says where the server is, how to get tokens and who the test
users are, and this adapter maps the contract onto FHIR REST:

============================  ===============================================================
contract                      HTTP
============================  ===============================================================
``login(actor)``              SMART Backend Services (client_credentials + private_key_jwt)
                              or OIDC login (authorization code + PKCE, private_key_jwt), or a
                              bearer token provided by the vendor (``login = "bearer"``)
``submit(bundle)``            ``POST [base]/Bundle`` (CDA: ``POST [base]/Binary``)
``find_patient(identifier)``  ``GET [base]/Patient?identifier=system|value``
``list_documents(p, cat)``    ``GET [base]/DocumentReference?patient=p&type=<LOINC>``
``fetch(p, cat)``             ``GET [base]/Patient/p/$summary`` (patient summary); other
                              categories: latest DocumentReference, then its attachment.url;
                              with a document id: ``GET [base]/Bundle/<id>``
``access_log(p)``             ``GET [base]/AuditEvent?patient=p`` (all pages)
``restrict(p, r)``            ``POST [base]/Consent`` (deny provisions)
``export_all(p)``             ``GET [base]/Patient/p/$everything``: a searchset of the patient's
                              document Bundles (all pages; optional, Capability.FULL_EXPORT)
============================  ===============================================================

Answers: 401/403 -> Denied, 404 -> NotFound, 400/409/413/415/422 -> Rejected,
405/501 -> NotSupported; connection failures, timeouts and 5xx -> AdapterError (an
*error* verdict), with the request kept in the evidence.

Every HTTP exchange is recorded (method, URL, status, headers with credentials
redacted, sha256 and size of the bodies, time) and handed to the pytest plugin
per check through :meth:`FhirRestAdapter.drain_exchanges`. Bodies and tokens are
never recorded. Security checks over HTTP (testcases/over_http) use
:meth:`FhirRestAdapter.http_probe` for raw requests.

See ``examples/reference-sut.toml`` for a complete SUT file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import ssl
import threading
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

import conformance
from conformance.adapter import (
    PRIORITY_CATEGORIES,
    Actor,
    ActorKind,
    Capability,
    Denied,
    DocumentInfo,
    NotFound,
    NotSupported,
    Organisation,
    Receipt,
    Rejected,
    Restriction,
    SutDescription,
    TestAccounts,
)
from conformance.auditlog import CATEGORY_LOINC
from conformance.errors import AdapterError, AdapterTimeout, UsageError

LOINC = "http://loinc.org"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EMERGENCY_HEADER = "X-Emergency-Access-Purpose"
CATEGORY_BY_LOINC = {code: cat for cat, codes in CATEGORY_LOINC.items() for code in codes}
#: Headers whose values are credentials: recorded as [REDACTED].
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
#: Response headers worth keeping in the evidence.
KEPT_RESPONSE_HEADERS = ("content-type", "location", "www-authenticate", "x-request-id", "allow")
MAX_EXCHANGES = 200  # per check; more are counted, not kept
MAX_PAGES = 100
LOGIN_KINDS = ("authorization_code", "client_credentials", "bearer")


def create(config: Mapping[str, Any] | None = None) -> FhirRestAdapter:
    """Adapter factory (entry point ``fhir``): ``config`` is the parsed SUT file."""
    return FhirRestAdapter(Settings.parse(dict(config or {})))


# =====================================================================================
# Settings (the SUT file)
# =====================================================================================


def _config_dir() -> Path | None:
    """Where relative paths of the SUT file are resolved: next to the file.

    The adapter receives the parsed file only, so the path comes from the pytest
    option (``--adapter-config``) or the environment (``CONFORMANCE_ADAPTER_CONFIG``).
    """
    path = os.environ.get("CONFORMANCE_ADAPTER_CONFIG")
    if not path:
        try:
            from conformance import pytest_plugin

            config = pytest_plugin._CONFIG.get("config")
            path = config.getoption("--adapter-config") if config is not None else None
        except Exception:  # noqa: BLE001 - outside pytest: no file known
            path = None
    return Path(path).resolve().parent if path else None


def _resolve(value: str, base: Path | None) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    candidates = ([base / path] if base else []) + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def _table(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name) or {}
    if not isinstance(value, Mapping):
        raise UsageError(f"SUT file: [{name}] must be a table")
    return dict(value)


@dataclass(frozen=True)
class ClientSettings:
    client_id: str
    private_key: Path | None
    redirect_uri: str = ""


@dataclass(frozen=True)
class LoginSettings:
    """How one kind of user gets a token."""

    name: str  # hp, hp_other, auditor, patients
    login: str  # authorization_code | client_credentials | bearer
    client: str = ""
    scope: str = ""
    token_env: str = ""  # login = "bearer": environment variable holding a token


@dataclass
class Settings:
    base_url: str
    timeout: float = 20.0  # below the guard's 30 s per call, so a hung request is reported by the adapter
    verify: bool | str = True
    token_endpoint: str = ""
    authorize_endpoint: str = ""
    lifetime_parameter: str = ""
    other_audience: str = ""
    clients: dict[str, ClientSettings] = field(default_factory=dict)
    logins: dict[str, LoginSettings] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    patient_credentials: dict[str, str] = field(default_factory=dict)
    declared: dict[str, Any] = field(default_factory=dict)  # [sut] overrides of describe()
    base_dir: Path | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Settings:
        sut = _table(config, "sut")
        base_dir = Path(str(sut["config_dir"])) if sut.get("config_dir") else _config_dir()
        base_url = str(sut.get("base_url", "")).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise UsageError("SUT file: [sut] base_url must be the FHIR base URL, e.g. "
                             "base_url = \"https://ehr.example/fhir\"")
        tls = _table(config, "tls")
        verify: bool | str = True
        if tls.get("ca"):
            verify = str(_resolve(str(tls["ca"]), base_dir))
        elif tls.get("verify") is False:
            verify = False
        auth = _table(config, "auth")
        settings = cls(
            base_url=base_url,
            timeout=float(sut.get("timeout", 20)),
            verify=verify,
            token_endpoint=str(auth.get("token_endpoint", "")),
            authorize_endpoint=str(auth.get("authorize_endpoint", "")),
            lifetime_parameter=str(auth.get("lifetime_parameter", "")),
            other_audience=str(auth.get("other_audience", "")),
            declared={k: sut[k] for k in ("product", "version", "vendor", "capabilities", "produces", "consumes")
                      if k in sut},
            base_dir=base_dir,
        )
        for client_id, entry in _table(config, "clients").items():
            if not isinstance(entry, Mapping):
                raise UsageError(f"SUT file: [clients.{client_id}] must be a table")
            key = entry.get("private_key")
            settings.clients[str(client_id)] = ClientSettings(
                str(client_id), _resolve(str(key), base_dir) if key else None, str(entry.get("redirect_uri", "")))
        actors = _table(config, "actors")
        for name in ("hp", "hp_other", "auditor"):
            if name not in actors:
                raise UsageError(f"SUT file: [actors.{name}] is missing: the harness needs two health professionals "
                                 "of different organisations (hp, hp_other) and an auditor")
            settings.actors[name], settings.logins[name] = _actor(name, actors[name], settings)
        patients = _table(config, "patients")
        if patients:
            settings.logins["patients"] = _login("patients", patients, settings)
            password = _secret(patients, "patients")
            if password:
                settings.patient_credentials = {"password": password}
        return settings


def _secret(entry: Mapping[str, Any], where: str) -> str:
    if entry.get("password_env"):
        name = str(entry["password_env"])
        if name not in os.environ:
            raise UsageError(f"SUT file: [{where}] password_env names {name!r}, which is not set")
        return os.environ[name]
    return str(entry.get("password", ""))


def _login(name: str, entry: Mapping[str, Any], settings: Settings) -> LoginSettings:
    login = str(entry.get("login", "authorization_code"))
    if login not in LOGIN_KINDS:
        raise UsageError(f"SUT file: [{name}] login = {login!r}; use one of {', '.join(LOGIN_KINDS)}")
    client = str(entry.get("client", ""))
    if login != "bearer" and client not in settings.clients:
        raise UsageError(f"SUT file: [{name}] client = {client!r} is not a [clients.<id>] table "
                         f"(known: {', '.join(settings.clients) or 'none'})")
    if login == "bearer" and not entry.get("token_env"):
        raise UsageError(f"SUT file: [{name}] login = \"bearer\" needs token_env (the variable holding the token)")
    return LoginSettings(name, login, client, str(entry.get("scope", "")), str(entry.get("token_env", "")))


def _actor(name: str, entry: Any, settings: Settings) -> tuple[Actor, LoginSettings]:
    where = f"actors.{name}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"SUT file: [{where}] must be a table")
    try:
        kind = ActorKind(str(entry.get("kind", "auditor" if name == "auditor" else "health-professional")))
    except ValueError:
        raise UsageError(f"SUT file: [{where}] kind must be one of "
                         f"{', '.join(k.value for k in ActorKind)}") from None
    org = entry.get("organisation")
    organisation = None
    if isinstance(org, Mapping):
        organisation = Organisation(str(org.get("identifier", "")), str(org.get("name", "")))
    if not entry.get("identifier"):
        raise UsageError(f"SUT file: [{where}] identifier is required (system|value of the test user)")
    login = _login(where, entry, settings)
    password = _secret(entry, where)
    credentials = {"password": password} if password else {}
    return Actor(kind, identifier=str(entry["identifier"]), name=str(entry.get("name", "")),
                 organisation=organisation, credentials=credentials), login


# =====================================================================================
# HTTP with evidence
# =====================================================================================


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _redacted(headers: Mapping[str, str] | httpx.Headers, keep: tuple[str, ...] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if keep is not None and low not in keep:
            continue
        if low in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[low] = f"{scheme} [REDACTED]".strip()
        elif low == "location":
            out[low] = _safe_url(value)  # a login redirect carries the authorization code
        else:
            out[low] = value
    return out


def _safe_url(url: str) -> str:
    """The URL without query values that could be credentials (code, token, password...)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    secret = {"code", "token", "access_token", "id_token", "password", "client_secret", "client_assertion", "state"}
    query = urllib.parse.urlencode([(k, "[REDACTED]" if k.lower() in secret else v) for k, v in pairs], safe="[]|")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class ExchangeLog:
    """Every HTTP exchange since the last drain (thread-safe; adapter calls run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._dropped = 0

    def record(self, item: dict[str, Any]) -> None:
        with self._lock:
            if len(self._items) < MAX_EXCHANGES:
                self._items.append(item)
            else:
                self._dropped += 1

    def drain(self) -> list[dict[str, Any]]:
        with self._lock:
            items, dropped = self._items, self._dropped
            self._items, self._dropped = [], 0
        if dropped:
            items.append({"kind": "note", "text": f"{dropped} further HTTP exchanges of this check were not kept "
                                                  f"(limit {MAX_EXCHANGES})"})
        return items


class Http:
    """An httpx client that records every exchange and turns transport failures into AdapterErrors."""

    def __init__(self, settings: Settings, log: ExchangeLog) -> None:
        self.settings = settings
        self.log = log
        verify: Any = settings.verify
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self.client = httpx.Client(verify=verify, timeout=settings.timeout, follow_redirects=False,
                                   headers={"User-Agent": f"ehds-conformance/{conformance.__version__}"})
        origin = urllib.parse.urlsplit(settings.base_url)
        self.origin = f"{origin.scheme}://{origin.netloc}"

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.settings.base_url}/{path.lstrip('/')}"

    def send(self, method: str, path: str, *, token: str | None = None, headers: Mapping[str, str] | None = None,
             content: bytes | None = None, params: Any = None, label: str = "",
             client: httpx.Client | None = None) -> httpx.Response:
        url = self.url(path)
        all_headers = dict(headers or {})
        if token is not None:
            if not url.startswith(self.origin + "/") and url != self.origin:
                raise AdapterError(f"refusing to send a bearer token to {_safe_url(url)}: it is not under the SUT's "
                                   f"origin {self.origin}")
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        request = (client or self.client).build_request(method, url, headers=all_headers, content=content,
                                                        params=params)
        body = request.content if isinstance(request.content, bytes) else b""
        item: dict[str, Any] = {
            "kind": "http", "method": method, "url": _safe_url(str(request.url)),
            "request_headers": _redacted(request.headers, ("accept", "content-type", "authorization",
                                                           "x-request-id", EMERGENCY_HEADER.lower())),
            "request_body_sha256": _digest(body), "request_body_size": len(body),
        }
        if label:
            item["label"] = label
        item.update(status=None, error="no answer yet")  # kept even if the guard gives up on this call first
        self.log.record(item)
        started = time.monotonic()
        try:
            response = (client or self.client).send(request)
            response.read()
        except httpx.TimeoutException as exc:
            item.update(error=f"timeout: {type(exc).__name__}", elapsed_ms=round((time.monotonic() - started) * 1000))
            raise AdapterTimeout(f"{method} {_safe_url(url)}: no answer within {self.settings.timeout:g} s") from None
        except httpx.HTTPError as exc:
            item.update(error=f"{type(exc).__name__}: {exc}"[:500], elapsed_ms=round((time.monotonic() - started) * 1000))
            raise AdapterError(f"{method} {_safe_url(url)} failed: {type(exc).__name__}: {exc}") from None
        del item["error"]
        item.update(status=response.status_code, response_headers=_redacted(response.headers, KEPT_RESPONSE_HEADERS),
                    body_sha256=_digest(response.content), body_size=len(response.content),
                    elapsed_ms=round((time.monotonic() - started) * 1000))
        return response


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise AdapterError(f"{what}: the answer (HTTP {response.status_code}, "
                           f"{response.headers.get('content-type', 'no content type')}) is not JSON") from None


def _reason(response: httpx.Response) -> str:
    """The diagnostics of an OperationOutcome (or an OAuth error) in an error response."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if body.get("resourceType") == "OperationOutcome":
            texts = [str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code", ""))
                     for i in body.get("issue", []) if isinstance(i, dict)]
            return "; ".join(t for t in texts if t)[:2000] or f"HTTP {response.status_code}"
        if "error" in body:
            return f"{body.get('error')}: {body.get('error_description', '')}".strip(": ")
    return f"HTTP {response.status_code}"


def answer(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful response, or the contract answer its status code means."""
    status = response.status_code
    if 200 <= status < 300:
        return _json(response, what) if response.content else {}
    reason = _reason(response)
    details = {"status": status}
    if status in (401, 403):
        raise Denied(reason, details=details)
    if status in (404, 410):
        raise NotFound(reason, details=details)
    if status in (400, 409, 412, 413, 415, 422):
        raise Rejected(reason, details=details)
    if status in (405, 501):
        raise NotSupported(reason, details=details)
    raise AdapterError(f"{what}: HTTP {status}: {reason}")


# =====================================================================================
# OAuth 2.0 client side
# =====================================================================================


@dataclass
class Token:
    access_token: str
    expires_at: float
    scope: str
    raw: dict[str, Any]


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
        response = self.http.send("GET", ".well-known/smart-configuration", headers={"Accept": "application/json"},
                                  label="SMART discovery")
        config = _json(response, "smart-configuration") if response.status_code == 200 else {}
        with self._lock:
            self._config = config if isinstance(config, dict) else {}
            return self._config

    def endpoint(self, name: str) -> str:
        explicit = self.settings.token_endpoint if name == "token_endpoint" else self.settings.authorize_endpoint
        if explicit:
            return explicit
        found = self.smart_configuration().get(name)
        if not isinstance(found, str) or not found:
            raise AdapterError(f"the SUT advertises no {name} at {self.settings.base_url}/.well-known/smart-configuration"
                               f" and the SUT file gives none ([auth] {name} = ...)")
        return found

    def _key(self, client: ClientSettings) -> Any:
        from conformance.server.keys import load_key

        if client.client_id not in self._keys:
            if client.private_key is None:
                raise UsageError(f"SUT file: [clients.{client.client_id}] needs private_key (JWK or PEM file)")
            self._keys[client.client_id] = load_key(client.private_key, private=True)
        return self._keys[client.client_id]

    def client_assertion(self, client_id: str, *, audience: str | None = None, lifetime: int = 240) -> str:
        """A private_key_jwt client assertion (RFC 7523, SMART Backend Services)."""
        from jwcrypto import jwt

        from conformance.server.keys import alg_for

        client = self.settings.clients[client_id]
        key = self._key(client)
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": audience or self.endpoint("token_endpoint"),
                  "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
        token = jwt.JWT(header={"alg": alg_for(key), "kid": key.get("kid"), "typ": "JWT"}, claims=claims)
        token.make_signed_token(key)
        return token.serialize()

    def token_request(self, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                      label: str = "token request") -> httpx.Response:
        body = urllib.parse.urlencode(dict(form)).encode("ascii")
        return self.http.send("POST", self.endpoint("token_endpoint"), content=body, label=label,
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Accept": "application/json", **dict(headers or {})})

    def _token(self, response: httpx.Response, who: str) -> Token:
        if response.status_code != 200:
            raise Denied(f"token request for {who} refused: {_reason(response)}",
                         details={"status": response.status_code})
        body = _json(response, "token response")
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AdapterError(f"token response for {who} has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 300.0
        return Token(body["access_token"], time.time() + lifetime, str(body.get("scope", "")), body)

    def login(self, login: LoginSettings, actor: Actor, *, scope: str | None = None, lifetime: int | None = None,
              resource: str | None = None) -> Token:
        """A token for `actor` as `login` says (Denied when refused)."""
        if login.login == "bearer":
            value = os.environ.get(login.token_env, "")
            if not value:
                raise Denied(f"no bearer token in ${login.token_env}")
            return Token(value, time.time() + 3600, login.scope, {})
        extra: dict[str, str] = {}
        if lifetime is not None:
            if not self.settings.lifetime_parameter:
                raise UsageError("a shorter token lifetime was asked for, but the SUT file names no "
                                 "[auth] lifetime_parameter")
            extra[self.settings.lifetime_parameter] = str(lifetime)
        if resource:
            extra["resource"] = resource
        wanted = login.scope if scope is None else scope
        if login.login == "client_credentials":
            form = {"grant_type": "client_credentials", "scope": wanted,
                    "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.client_assertion(login.client),
                    **extra}
            return self._token(self.token_request(form, label=f"client_credentials for {login.name}"), login.name)
        return self._code_login(login, actor, wanted, extra)

    def _code_login(self, login: LoginSettings, actor: Actor, scope: str, extra: Mapping[str, str]) -> Token:
        client = self.settings.clients[login.client]
        password = str(actor.credentials.get("password", "")) if actor.credentials else ""
        if not actor.identifier or not password:
            raise Denied(f"{actor.kind.value} has no identifier or password to log in with")
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        form = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
                "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                "aud": self.settings.base_url, "username": actor.identifier, "password": password,
                "actor_kind": actor.kind.value}
        response = self.http.send("POST", self.endpoint("authorization_endpoint"),
                                  content=urllib.parse.urlencode(form).encode("utf-8"), label=f"login of {login.name}",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        if response.status_code in (400, 401, 403):
            raise Denied(f"login of {actor.identifier} refused (HTTP {response.status_code})",
                         details={"status": response.status_code})
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or not location:
            raise AdapterError(f"login of {login.name}: expected a redirect with an authorization code, got HTTP "
                               f"{response.status_code}")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        if query.get("error"):
            raise Denied(f"login of {actor.identifier} refused: {query['error']}")
        if query.get("state") != state or not query.get("code"):
            raise AdapterError(f"login of {login.name}: the redirect lacks the code or carries another state")
        token_form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": client.redirect_uri,
                      "code_verifier": verifier, "client_id": client.client_id,
                      "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.client_assertion(client.client_id),
                      **extra}
        return self._token(self.token_request(token_form, label=f"code exchange for {login.name}"), login.name)


# =====================================================================================
# The adapter
# =====================================================================================


def _category_codes(category: str) -> str:
    codes = CATEGORY_LOINC.get(category)
    if not codes:
        raise Rejected(f"unknown category {category!r}; use one of {', '.join(PRIORITY_CATEGORIES)}")
    return ",".join(f"{LOINC}|{c}" for c in codes)


def _entries(bundle: Any, resource_type: str) -> list[dict[str, Any]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise AdapterError(f"a {resource_type} search did not answer with a Bundle")
    return [e["resource"] for e in bundle.get("entry", []) or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == resource_type]


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link", []) or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _ref_id(reference: Any, resource_type: str) -> str:
    ref = reference.get("reference", "") if isinstance(reference, dict) else ""
    if not isinstance(ref, str):
        return ""
    marker = f"{resource_type}/"
    return ref.rsplit(marker, 1)[1].split("/", 1)[0] if marker in ref else ""


def _document_info(resource: dict[str, Any]) -> DocumentInfo:
    codes = [c.get("code") for c in (resource.get("type") or {}).get("coding", []) or [] if isinstance(c, dict)]
    category = next((CATEGORY_BY_LOINC[c] for c in codes if c in CATEGORY_BY_LOINC), "")
    attachment = next((c.get("attachment") or {} for c in resource.get("content", []) or [] if isinstance(c, dict)),
                      {})
    return DocumentInfo(document_id=str(resource.get("id", "")), patient_id=_ref_id(resource.get("subject"), "Patient"),
                        category=category, title=str(resource.get("description") or attachment.get("title") or ""),
                        date=str(resource.get("date", "")))


def _consent(patient_id: str, restriction: Restriction) -> dict[str, Any]:
    deny: dict[str, Any] = {"type": "deny"}
    if restriction.document_ids:
        deny["data"] = [{"meaning": "instance", "reference": {"reference": f"DocumentReference/{d}"}}
                        for d in sorted(restriction.document_ids)]
    if restriction.categories:
        deny["code"] = [{"coding": [{"system": LOINC, "code": code} for code in CATEGORY_LOINC.get(c, ())],
                         "text": c} for c in sorted(restriction.categories)]
    provision: dict[str, Any] = {"type": "permit"}
    if len(deny) > 1:
        provision["provision"] = [deny]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "provision": provision,
    }


class FhirSession:
    """One logged-in actor (or an anonymous caller without a token)."""

    def __init__(self, adapter: FhirRestAdapter, actor: Actor, login: LoginSettings | None, token: Token | None) -> None:
        self.actor = actor
        self._adapter = adapter
        self._login = login
        self._token = token
        self._lock = threading.Lock()

    # ---- plumbing ------------------------------------------------------------------------

    def _bearer(self) -> str | None:
        with self._lock:
            if self._token is None or self._login is None:
                return None
            if self._token.expires_at - time.time() < 30:  # renew a token about to expire
                self._token = self._adapter.token_for(self._login, self.actor)
            return self._token.access_token

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        headers = {"Accept": "application/fhir+json", **kwargs.pop("headers", {})}
        response = self._adapter.http.send(method, path, token=self._bearer(), headers=headers, **kwargs)
        if response.status_code == 401 and self._token is not None and self._login is not None:
            with self._lock:  # the server may have restarted or revoked it: log in again once
                self._token = self._adapter.token_for(self._login, self.actor)
            response = self._adapter.http.send(method, path, token=self._bearer(), headers=headers, **kwargs)
        return answer(response, what), response

    @staticmethod
    def _emergency(purpose: str | None) -> dict[str, str]:
        return {} if purpose is None else {EMERGENCY_HEADER: urllib.parse.quote(purpose, safe="")}

    def _search(self, resource_type: str, params: list[tuple[str, str]], headers: Mapping[str, str] | None = None,
                *, start: str | None = None) -> list[dict[str, Any]]:
        """Every `resource_type` entry of a search (``start``: another first path, e.g. an operation)."""
        found: list[dict[str, Any]] = []
        path: str | None = start or resource_type
        query: Any = params
        for _ in range(MAX_PAGES):
            if path is None:
                break
            bundle, _response = self._send("GET", path, f"{resource_type} search", params=query,
                                           headers=dict(headers or {}))
            found += _entries(bundle, resource_type)
            path, query = _next_link(bundle), None
        else:
            raise AdapterError(f"{resource_type} search: more than {MAX_PAGES} pages")
        return found

    # ---- the contract ----------------------------------------------------------------------

    def submit(self, document: Mapping[str, Any] | bytes) -> Receipt:
        if isinstance(document, (bytes, bytearray)):
            data = bytes(document)
            if data.lstrip()[:1] in (b"{", b"["):
                path, content, media = "Bundle", data, "application/fhir+json"
            else:
                path, content, media = "Binary", data, "application/cda+xml"
        else:
            path, content, media = "Bundle", orjson.dumps(dict(document)), "application/fhir+json"
        body, response = self._send("POST", path, "submit", content=content, headers={"Content-Type": media})
        doc_id = str(body.get("id", "")) if isinstance(body, dict) and body.get("resourceType") != "OperationOutcome" \
            else ""
        patient_id = _ref_id(body.get("subject"), "Patient") if isinstance(body, dict) else ""
        if not doc_id:
            location = response.headers.get("location", "")
            doc_id = location.rstrip("/").split("/_history", 1)[0].rsplit("/", 1)[-1] if location else ""
        if not doc_id or not patient_id:
            raise AdapterError("submit: the server accepted the document but its answer names no document id and "
                               "patient (expected a DocumentReference with subject, or a Location header)")
        return Receipt(document_id=doc_id, patient_id=patient_id)

    def find_patient(self, identifier: str) -> str:
        found = self._search("Patient", [("identifier", identifier)])
        if not found:
            raise NotFound(f"no patient with identifier {identifier!r}")
        ids = sorted({str(p.get("id", "")) for p in found})
        if len(ids) > 1:
            raise AdapterError(f"identifier {identifier!r} matched {len(ids)} patients: {ids}")
        return ids[0]

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        params = [("patient", patient_id)]
        if category is not None:
            params.append(("type", _category_codes(category)))
        return [_document_info(r) for r in self._search("DocumentReference", params)]

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        headers = self._emergency(emergency_purpose)
        if document_id is not None:
            path = f"Bundle/{urllib.parse.quote(document_id, safe='')}"
        elif category == "patient-summary":
            path = f"Patient/{urllib.parse.quote(patient_id, safe='')}/$summary"
        else:
            refs = self._search("DocumentReference", [("patient", patient_id), ("type", _category_codes(category))],
                                headers)
            if not refs:
                raise NotFound(f"no {category} document for patient {patient_id}")
            attachment = next((c.get("attachment") or {} for c in refs[-1].get("content", []) or []), {})
            path = attachment.get("url") or f"Bundle/{refs[-1].get('id', '')}"
        body, _response = self._send("GET", path, "fetch", headers=headers)
        if not isinstance(body, dict):
            raise AdapterError("fetch: the answer is not a JSON object")
        return body

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        return self._search("AuditEvent", [("patient", patient_id), ("_count", "1000")])

    def export_all(self, patient_id: str) -> list[dict[str, Any]]:
        return self._search("Bundle", [], start=f"Patient/{urllib.parse.quote(patient_id, safe='')}/$everything")

    def restrict(self, patient_id: str, restriction: Restriction) -> None:
        unknown = sorted(set(restriction.categories) - set(CATEGORY_LOINC))
        if unknown:
            raise Rejected(f"unknown categories {unknown}; use {', '.join(PRIORITY_CATEGORIES)}")
        self._send("POST", "Consent", "restrict", content=orjson.dumps(_consent(patient_id, restriction)),
                   headers={"Content-Type": "application/fhir+json"})


class FhirRestAdapter:
    """The adapter of a FHIR R4 server (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exchanges = ExchangeLog()
        self.http = Http(settings, self.exchanges)
        self.oauth = OAuthClient(settings, self.http)
        self._description: SutDescription | None = None
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str, str], Token] = {}

    # ---- evidence -------------------------------------------------------------------------

    def drain_exchanges(self) -> list[dict[str, Any]]:
        """The HTTP exchanges since the last call (the pytest plugin calls this around each check)."""
        return self.exchanges.drain()

    def http_probe(self) -> HttpProbe:
        """Raw HTTP access for the transport and token checks (testcases/over_http)."""
        return HttpProbe(self)

    # ---- the contract ----------------------------------------------------------------------

    def describe(self) -> SutDescription:
        with self._lock:
            if self._description is None:
                self._description = self._describe()
            return self._description

    def capability_statement(self) -> dict[str, Any]:
        response = self.http.send("GET", "metadata", headers={"Accept": "application/fhir+json"},
                                  label="CapabilityStatement")
        body = answer(response, "GET metadata")
        if not isinstance(body, dict) or body.get("resourceType") != "CapabilityStatement":
            raise AdapterError(f"GET {self.settings.base_url}/metadata did not return a CapabilityStatement")
        return body

    def _describe(self) -> SutDescription:
        """What the SUT file declares ([sut] capabilities, produces, consumes), else what /metadata shows."""
        statement = self.capability_statement()
        declared = self.settings.declared
        known = {c.value for c in Capability}
        if "capabilities" in declared:
            unknown = sorted(str(c) for c in declared["capabilities"] if str(c) not in known)
            if unknown:
                raise UsageError(f"SUT file: [sut] capabilities {unknown} are unknown; use {', '.join(sorted(known))}")
            caps = {Capability(str(c)) for c in declared["capabilities"]}
        else:
            caps = _capabilities_from_rest(statement)
        caps |= {Capability.HTTP, Capability.FHIR}
        for key in ("produces", "consumes"):
            bad = sorted(set(map(str, declared.get(key, ()))) - set(PRIORITY_CATEGORIES))
            if bad:
                raise UsageError(f"SUT file: [sut] {key} {bad} are not priority categories; use "
                                 f"{', '.join(PRIORITY_CATEGORIES)}")
        software = statement.get("software") or {}
        derived = {"patient-summary"} if Capability.EXPORT in caps else set()
        return SutDescription(
            product=str(declared.get("product") or software.get("name") or "FHIR server"),
            version=str(declared.get("version") or software.get("version") or ""),
            vendor=str(declared.get("vendor") or statement.get("publisher") or ""),
            capabilities=frozenset(caps),
            produces=frozenset(map(str, declared.get("produces", derived))),
            consumes=frozenset(map(str, declared.get("consumes", ()))),
            extra={"base_url": self.settings.base_url, "fhirVersion": statement.get("fhirVersion", "")},
        )

    def test_accounts(self) -> TestAccounts:
        a = self.settings.actors
        return TestAccounts(hp=a["hp"], hp_other=a["hp_other"], auditor=a["auditor"],
                            patient_credentials=dict(self.settings.patient_credentials))

    def login_settings(self, actor: Actor) -> LoginSettings:
        if actor.kind is ActorKind.PATIENT:
            login = self.settings.logins.get("patients")
            if login is None:
                raise NotSupported("the SUT file has no [patients] table: patients cannot log in")
            return login
        for name, known in self.settings.actors.items():
            if known.identifier == actor.identifier and known.kind is actor.kind:
                return self.settings.logins[name]
        for name, known in self.settings.actors.items():
            if known.kind is actor.kind:
                return self.settings.logins[name]
        raise Denied(f"no way to log in a {actor.kind.value} is configured")

    def login(self, actor: Actor) -> FhirSession:
        """A session with a token for `actor`; Denied when the SUT refuses the login.

        A still-valid token obtained with exactly the same credentials is reused (checks log
        in very often; the SUT already proved it accepts them). Other credentials always
        go to the SUT."""
        if actor.kind is ActorKind.ANONYMOUS:
            return FhirSession(self, actor, None, None)  # requests go without a token; the server must refuse them
        login = self.login_settings(actor)
        with self._lock:
            cached = self._tokens.get(self._token_key(login, actor))
        if cached is None or cached.expires_at - time.time() < 120:
            cached = self.token_for(login, actor)
        return FhirSession(self, actor, login, cached)

    @staticmethod
    def _token_key(login: LoginSettings, actor: Actor) -> tuple[str, str, str, str]:
        secret = str(actor.credentials.get("password", "")) if actor.credentials else ""
        return login.name, actor.kind.value, actor.identifier, hashlib.sha256(secret.encode()).hexdigest()

    def token_for(self, login: LoginSettings, actor: Actor) -> Token:
        """A fresh token from the SUT (remembered for later logins with the same credentials)."""
        token = self.oauth.login(login, actor)
        with self._lock:
            self._tokens[self._token_key(login, actor)] = token
        return token

    def close(self) -> None:
        self.http.close()


def _capabilities_from_rest(statement: dict[str, Any]) -> set[Capability]:
    """What a plain CapabilityStatement shows (for servers without our capability extension)."""
    caps: set[Capability] = set()
    for rest in statement.get("rest", []) or []:
        for res in rest.get("resource", []) or []:
            kind = res.get("type")
            codes = {i.get("code") for i in res.get("interaction", []) or [] if isinstance(i, dict)}
            ops = {o.get("name") for o in res.get("operation", []) or [] if isinstance(o, dict)}
            if kind == "Bundle" and "create" in codes:
                caps.add(Capability.SUBMIT)
            if kind == "Binary" and "create" in codes:
                caps.add(Capability.CDA)
            if (kind == "Patient" and "summary" in ops) or (kind == "Bundle" and "read" in codes):
                caps.add(Capability.EXPORT)
            if kind == "AuditEvent" and "search-type" in codes:
                caps.add(Capability.ACCESS_LOG)
            if kind == "Consent" and "create" in codes:
                caps.add(Capability.RESTRICTION)
    return caps


class HttpProbe:
    """Raw HTTP for the transport and token checks: requests with any (or no) token, token requests
    with chosen parameters, client assertions. Every exchange is recorded like the adapter's."""

    def __init__(self, adapter: FhirRestAdapter) -> None:
        self.adapter = adapter
        self.settings = adapter.settings
        self.http = adapter.http
        self.oauth = adapter.oauth

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def uses_tls(self) -> bool:
        return self.settings.base_url.startswith("https://")

    def request(self, method: str, path: str, *, token: str | None = None, headers: Mapping[str, str] | None = None,
                content: bytes | None = None, params: Any = None, label: str = "",
                client: httpx.Client | None = None) -> httpx.Response:
        """One request to the SUT (path relative to the FHIR base, or an absolute URL under its origin).

        `token` is sent as a bearer token even when it is malformed (that is the point)."""
        if token is not None:
            headers = {**dict(headers or {}), "Authorization": f"Bearer {token}"}
        return self.http.send(method, path, headers=headers, content=content, params=params, label=label,
                              client=client)

    def token(self, actor: Actor, *, scope: str | None = None, lifetime: int | None = None,
              resource: str | None = None) -> Token:
        """A token for a test user with the given scope / lifetime / audience (Denied if refused)."""
        return self.oauth.login(self.adapter.login_settings(actor), actor, scope=scope, lifetime=lifetime,
                                resource=resource)

    def login_settings(self, actor: Actor) -> LoginSettings:
        return self.adapter.login_settings(actor)

    def client_assertion(self, client_id: str, **kwargs: Any) -> str:
        return self.oauth.client_assertion(client_id, **kwargs)

    def token_request(self, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                      label: str = "token request") -> httpx.Response:
        return self.oauth.token_request(form, headers=headers, label=label)

    def smart_configuration(self) -> httpx.Response:
        return self.http.send("GET", ".well-known/smart-configuration", headers={"Accept": "application/json"},
                              label="SMART discovery")

    def plain_http_url(self, path: str = "metadata") -> str:
        """The same endpoint with the scheme switched to http:// (same host and port)."""
        parts = urllib.parse.urlsplit(self.http.url(path))
        return urllib.parse.urlunsplit(("http", parts.netloc, parts.path, parts.query, ""))

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts what the adapter trusts."""
        verify = self.settings.verify
        if isinstance(verify, str):
            return ssl.create_default_context(cafile=verify)
        context = ssl.create_default_context()
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


__all__ = ["FhirRestAdapter", "HttpProbe", "Settings", "create"]
