"""The SUT file (TOML) of the ``fhir`` adapter, parsed once into frozen settings.

Why a module of its own: every other part (transport, auth, mapping) reads these
settings and none of them should know TOML or where the file lives. Errors are
UsageErrors that name the table and key to fix.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.adapter import Actor, ActorKind, Organisation
from conformance.errors import UsageError

LOGIN_KINDS = ("authorization_code", "client_credentials", "bearer")

#: The standard FHIR interaction behind each contract method, and the choices per method.
INTERACTIONS: dict[str, tuple[str, ...]] = {
    "submit": ("create", "transaction", "mhd"),          # POST [base]/Bundle | POST [base] | ITI-65
    "find_patient": ("search",),                         # GET [base]/Patient?identifier=
    "list_documents": ("search",),                       # GET [base]/DocumentReference?patient=&type= (ITI-67)
    "fetch": ("summary", "documentreference"),           # $summary for patient summaries | ITI-67 -> ITI-68
    "access_log": ("search",),                           # GET [base]/AuditEvent?patient= (BALP / ITI-81)
    "restrict": ("consent",),                            # POST [base]/Consent
    "export_all": ("everything", "none"),                # GET [base]/Patient/<id>/$everything
    "record_consent": ("consent",),                      # POST [base]/Consent (with provision.purpose)
    "withdraw_consent": ("update", "delete"),            # GET + PUT [base]/Consent/<id> status inactive | DELETE
}
DEFAULT_INTERACTIONS = {"submit": "create", "find_patient": "search", "list_documents": "search",
                        "fetch": "summary", "access_log": "search", "restrict": "consent",
                        "export_all": "everything", "record_consent": "consent", "withdraw_consent": "update"}


def config_dir() -> Path | None:
    """Where relative paths of the SUT file are resolved: next to the file.

    The adapter receives the parsed file only; ``conformance run`` (and the pytest
    plugin) put its path in ``CONFORMANCE_ADAPTER_CONFIG``. Without it, the current
    directory is used.
    """
    path = os.environ.get("CONFORMANCE_ADAPTER_CONFIG")
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


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (lower-case scheme and host)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


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
    export_client: str = ""  # the data holder's full export runs with this client's token (least privilege)
    export_scope: str = ""


@dataclass(frozen=True)
class Limits:
    """Bounds on every HTTP request (adapter and raw probes alike).

    ``total`` must stay below the guard's per-call limit (``--adapter-timeout``, 30 s),
    so a slow server is reported by the transport with the request named, and the
    worker thread ends on its own instead of reading in the background.
    """

    connect: float = 5.0
    read: float = 10.0
    total: float = 20.0
    max_body: int = 20 * 1024 * 1024
    max_pages: int = 50
    max_entries: int = 10_000


@dataclass
class Settings:
    base_url: str
    limits: Limits = field(default_factory=Limits)
    verify: bool | str = True
    token_endpoint: str = ""
    authorize_endpoint: str = ""
    authorization_server: str = ""  # [auth] issuer: the origin passwords may be sent to
    lifetime_parameter: str = ""
    other_audience: str = ""
    clients: dict[str, ClientSettings] = field(default_factory=dict)
    logins: dict[str, LoginSettings] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    patient_credentials: dict[str, str] = field(default_factory=dict)
    declared: dict[str, Any] = field(default_factory=dict)  # [sut] overrides of describe()
    interactions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_INTERACTIONS))
    #: "per-patient": each patient's password is jose.derive_secret([patients] password, identifier)
    patient_password_scheme: str = ""
    base_dir: Path | None = None

    @property
    def timeout(self) -> float:
        return self.limits.total

    @property
    def origin(self) -> str:
        return origin_of(self.base_url)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Settings:
        sut = _table(config, "sut")
        base_dir = Path(str(sut["config_dir"])) if sut.get("config_dir") else config_dir()
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
            limits=_limits(sut, _table(config, "limits")),
            verify=verify,
            token_endpoint=str(auth.get("token_endpoint", "")),
            authorize_endpoint=str(auth.get("authorize_endpoint", "")),
            authorization_server=str(auth.get("issuer", "")),
            lifetime_parameter=str(auth.get("lifetime_parameter", "")),
            other_audience=str(auth.get("other_audience", "")),
            declared={k: sut[k] for k in ("product", "version", "vendor", "capabilities", "produces", "consumes")
                      if k in sut},
            interactions=_interactions(_table(config, "interactions")),
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
            scheme = str(patients.get("password_scheme", ""))
            if scheme not in ("", "shared", "per-patient"):
                raise UsageError(f"SUT file: [patients] password_scheme = {scheme!r}; use \"shared\" (one sandbox "
                                 "password) or \"per-patient\" (HMAC-SHA256 of the identifier under the password)")
            settings.patient_password_scheme = "" if scheme == "shared" else scheme
            password = _secret(patients, "patients")
            if password:
                settings.patient_credentials = {"password": password}
        return settings

    def auth_origins(self) -> set[str]:
        """Origins of the configured authorization server: where test passwords may go."""
        found = {self.origin}
        for url in (self.token_endpoint, self.authorize_endpoint, self.authorization_server):
            if url:
                found.add(origin_of(url))
        return found


def _limits(sut: Mapping[str, Any], table: Mapping[str, Any]) -> Limits:
    """[limits] (and the older [sut] timeout) -> Limits, with every value checked."""
    total = float(table.get("total", sut.get("timeout", 20)))
    values = {"connect": float(table.get("connect", min(5.0, total))), "read": float(table.get("read", min(10.0, total))),
              "total": total, "max_body": int(table.get("max_body", Limits.max_body)),
              "max_pages": int(table.get("max_pages", Limits.max_pages)),
              "max_entries": int(table.get("max_entries", Limits.max_entries))}
    bad = sorted(k for k, v in values.items() if v <= 0)
    if bad:
        raise UsageError(f"SUT file: [limits] {', '.join(bad)} must be positive")
    return Limits(**values)  # type: ignore[arg-type]


def _interactions(table: Mapping[str, Any]) -> dict[str, str]:
    chosen = dict(DEFAULT_INTERACTIONS)
    for method, value in table.items():
        if method not in INTERACTIONS:
            raise UsageError(f"SUT file: [interactions] {method} is not a contract method; use one of "
                             f"{', '.join(INTERACTIONS)}")
        if str(value) not in INTERACTIONS[method]:
            raise UsageError(f"SUT file: [interactions] {method} = {value!r}; use one of "
                             f"{', '.join(INTERACTIONS[method])}")
        chosen[method] = str(value)
    return chosen


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
    export_client = str(entry.get("export_client", ""))
    if export_client and export_client not in settings.clients:
        raise UsageError(f"SUT file: [{name}] export_client = {export_client!r} is not a [clients.<id>] table")
    return LoginSettings(name, login, client, str(entry.get("scope", "")), str(entry.get("token_env", "")),
                         export_client, str(entry.get("export_scope", "")))


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
