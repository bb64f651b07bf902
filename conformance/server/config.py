"""How the reference server's authorization server is set up: its signing key, the clients it
knows, token lifetimes, size limits.

Kept apart from the app so tests can build a configuration in memory
(:meth:`AuthConfig.generate`) and ``serve-reference`` can read one from the
``[reference_server]`` table of a SUT file (:func:`from_toml`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jwcrypto import jwk

from conformance.adapter import ActorKind, Organisation
from conformance.errors import UsageError
from conformance import jose as keys

GRANT_TYPES = frozenset({"client_credentials", "authorization_code"})


@dataclass(frozen=True)
class Accountable:
    """Who a client_credentials client acts for (its tokens log this person, Annex II 3.2(b))."""

    kind: ActorKind
    identifier: str
    name: str = ""
    organisation: Organisation | None = None


@dataclass(frozen=True)
class ClientRegistration:
    """A client of the authorization server (SMART Backend Services / OIDC relying party).

    Clients authenticate with private_key_jwt only: there are no client secrets.
    """

    client_id: str
    public_keys: tuple[jwk.JWK, ...]
    scopes: tuple[str, ...]
    grant_types: frozenset[str] = frozenset({"client_credentials"})
    redirect_uris: tuple[str, ...] = ()
    acts_as: Accountable | None = None

    def key_set(self) -> jwk.JWKSet:
        ks = jwk.JWKSet()
        for key in self.public_keys:
            ks.add(key)
        return ks


@dataclass
class AuthConfig:
    """Everything the authorization server and the token checks need.

    ``public_url`` is the origin clients use (``https://127.0.0.1:8443``); the FHIR
    base is ``<public_url>/fhir`` (the audience of its tokens) and the issuer is
    ``<public_url>/auth``. When None it is taken from each request's Host (tests).
    """

    signing_key: jwk.JWK
    clients: dict[str, ClientRegistration] = field(default_factory=dict)
    public_url: str | None = None
    token_lifetime: int = 900
    code_lifetime: int = 60
    assertion_max_lifetime: int = 300
    other_audiences: tuple[str, ...] = ()
    max_body_bytes: int = 5_000_000
    clock_skew: int = 0
    #: the sandbox patients' master secret: each patient logs in with derive_secret(master, identifier)
    patient_master: str = ""
    #: failed logins allowed per identifier (and 20x that per client address) within login_window seconds
    login_attempts: int = 5
    login_window: int = 300

    @classmethod
    def generate(cls, **kwargs: Any) -> AuthConfig:
        """A configuration with a fresh ES384 signing key (keys live as long as the process)."""
        return cls(signing_key=keys.generate("ES384", kid="reference-server-" + keys.generate().thumbprint()[:8]),
                   **kwargs)

    def register(self, client: ClientRegistration) -> None:
        self.clients[client.client_id] = client


_CLIENT_KEYS = {"public_key", "grant_types", "redirect_uris", "scopes", "acts_as"}
_SERVER_KEYS = {"host", "port", "db", "tls_cert", "tls_key", "public_url", "token_lifetime", "other_audiences",
                "max_body_bytes", "clients", "service"}


def from_toml(config: Mapping[str, Any], *, base: Path, accountable: Mapping[str, Accountable]) -> AuthConfig:
    """Build the AuthConfig from a ``[reference_server]`` table (paths relative to `base`).

    `accountable` maps sandbox account names (``auditor``...) to identities, for
    ``acts_as`` of client_credentials clients.
    """
    section = config.get("reference_server") or {}
    if not isinstance(section, Mapping):
        raise UsageError("[reference_server] must be a table")
    unknown = sorted(set(section) - _SERVER_KEYS)
    if unknown:
        raise UsageError(f"[reference_server]: unknown keys {unknown}; known: {', '.join(sorted(_SERVER_KEYS))}")
    auth = AuthConfig.generate(
        token_lifetime=int(section.get("token_lifetime", 900)),
        other_audiences=tuple(str(a) for a in section.get("other_audiences", ())),
        max_body_bytes=int(section.get("max_body_bytes", 5_000_000)),
    )
    clients = section.get("clients") or {}
    if not isinstance(clients, Mapping):
        raise UsageError("[reference_server.clients] must be a table of client id -> settings")
    for client_id, entry in clients.items():
        where = f"[reference_server.clients.{client_id}]"
        if not isinstance(entry, Mapping):
            raise UsageError(f"{where} must be a table")
        unknown = sorted(set(entry) - _CLIENT_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown keys {unknown}; known: {', '.join(sorted(_CLIENT_KEYS))}")
        if "public_key" not in entry:
            raise UsageError(f"{where}: public_key is required (the client's public JWK/JWKS/PEM file)")
        grants = frozenset(str(g) for g in entry.get("grant_types", ["client_credentials"]))
        if grants - GRANT_TYPES:
            raise UsageError(f"{where}: unsupported grant_types {sorted(grants - GRANT_TYPES)}; "
                             f"use {', '.join(sorted(GRANT_TYPES))}")
        acts_as = None
        if entry.get("acts_as"):
            name = str(entry["acts_as"])
            if name not in accountable:
                raise UsageError(f"{where}: acts_as {name!r} is not a sandbox account; use one of "
                                 f"{', '.join(sorted(accountable))}")
            acts_as = accountable[name]
        if "client_credentials" in grants and acts_as is None:
            raise UsageError(f"{where}: a client_credentials client must name the accountable person it acts for "
                             "(acts_as = \"auditor\"): the access log must identify a natural person")
        auth.register(ClientRegistration(
            client_id=str(client_id),
            public_keys=(keys.load_key(str(entry["public_key"]), base=base, private=False),),
            scopes=tuple(str(s) for s in entry.get("scopes", ())),
            grant_types=grants,
            redirect_uris=tuple(str(u) for u in entry.get("redirect_uris", ())),
            acts_as=acts_as,
        ))
    return auth
