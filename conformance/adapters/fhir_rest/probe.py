"""Raw HTTP for the transport and token checks (testcases/over_http).

Why: those checks send what a well-behaved client never sends (no token, a forged
token, plain HTTP, a replayed assertion). They go through the adapter's one bounded
transport, so they have the same deadlines, body limit, redaction and token-origin
guard as the contract calls; nothing here opens its own unbounded connection.
"""

from __future__ import annotations

import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any

from conformance.adapter import Actor, NotSupported
from conformance.adapters.fhir_rest.auth import Token
from conformance.adapters.fhir_rest.config import LoginSettings
from conformance.adapters.fhir_rest.transport import Reply


class HttpProbe:
    """Raw HTTP for the transport and token checks: requests with any (or no) token, token requests
    with chosen parameters, client assertions. Every exchange is recorded like the adapter's."""

    def __init__(self, adapter: Any) -> None:
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
                content: bytes | None = None, params: Any = None, label: str = "", client: Any = None,
                cleartext_loopback: bool = False) -> Reply:
        """One request to the SUT (path relative to the FHIR base, or an absolute URL under its origin).

        `token` is sent as a bearer token even when it is malformed (that is the point), but
        only to the SUT's origin (``cleartext_loopback``: also to its own port over plain
        HTTP when the SUT is on this machine)."""
        return self.http.send(method, path, token=token, headers=headers, content=content, params=params,
                              label=label, client=client, cleartext_loopback=cleartext_loopback)

    def plain_client(self) -> Any:
        """A bounded client for plain-HTTP probes (no TLS settings)."""
        return self.http.new_client(verify=False)

    def token(self, actor: Actor, *, scope: str | None = None, lifetime: int | None = None,
              resource: str | None = None) -> Token:
        """A token for a test user with the given scope / lifetime / audience (Denied if refused)."""
        login = self.adapter.login_settings(actor)
        if login.login == "bearer":
            if scope is None and lifetime is None and resource is None:
                return self.adapter.login(actor)._token
            raise NotSupported(f"[{login.name}] uses a vendor-supplied bearer token (login = \"bearer\"): the harness "
                               "cannot ask for a token with another scope, lifetime or audience")
        return self.oauth.login(login, actor, scope=scope, lifetime=lifetime, resource=resource)

    def issued_tokens(self) -> list[tuple[str, Token]]:
        """(login name, token) of every token obtained so far in this run (shape only is inspected)."""
        return list(self.adapter.issued)

    def login_settings(self, actor: Actor) -> LoginSettings:
        return self.adapter.login_settings(actor)

    def client_assertion(self, client_id: str, **kwargs: Any) -> str:
        return self.oauth.client_assertion(client_id, **kwargs)

    def token_request(self, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                      label: str = "token request") -> Reply:
        return self.oauth.token_request(form, headers=headers, label=label)

    def smart_configuration(self) -> Reply:
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
