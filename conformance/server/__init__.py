"""The reference EHR as a FHIR R4 server, with its OAuth 2.0 / OpenID Connect authorization server.

``create_app(service, auth_config=...)`` builds the FastAPI app; ``conformance
serve-reference`` runs it with uvicorn. Modules: :mod:`.app` (assembly, error
handling), :mod:`.fhir` (REST routes), :mod:`.oauth` (token endpoint, login,
discovery), :mod:`.gateway` (token and scope checks around every request),
:mod:`.tokens` (JWT rules), :mod:`.scopes` (SMART scopes), :mod:`.shapes` (FHIR
resources), :mod:`.config` (clients and limits),
:mod:`.sandbox` (test keys and certificates).

Keys and JWS live in :mod:`conformance.jose` (shared with the adapter and report signing).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AuthConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from conformance.server.app import create_app

        return create_app
    if name == "AuthConfig":
        from conformance.server.config import AuthConfig

        return AuthConfig
    raise AttributeError(name)
