"""The ``fhir`` adapter: any FHIR R4 server over HTTP(S), with OAuth 2.0 / OpenID Connect tokens.

A vendor whose EHR is a FHIR server writes no Python: a SUT file (TOML, given with
``--adapter-config``) says where the server is, how to get tokens, who the test users
are and which standard interaction serves each contract method ([interactions]).
See the README section "Testing a FHIR server" and ``examples/reference-sut.toml``.

Modules, one job each: :mod:`.config` (the SUT file), :mod:`.transport` (the one
bounded, recording HTTP client), :mod:`.auth` (tokens), :mod:`.mapping` (contract
<-> FHIR REST messages), :mod:`.adapter` (the contract), :mod:`.probe` (raw HTTP for
the over-HTTP checks). Resource mapping shared with the reference server is
:mod:`conformance.fhirmap`; keys and JWS are :mod:`conformance.jose`. Nothing here
imports the reference server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.fhir_rest.adapter import FhirRestAdapter, FhirSession
from conformance.adapters.fhir_rest.auth import Token
from conformance.adapters.fhir_rest.config import Limits, LoginSettings, Settings
from conformance.adapters.fhir_rest.probe import HttpProbe
from conformance.adapters.fhir_rest.transport import Reply


def create(config: Mapping[str, Any] | None = None) -> FhirRestAdapter:
    """Adapter factory (entry point ``fhir``): ``config`` is the parsed SUT file."""
    return FhirRestAdapter(Settings.parse(dict(config or {})))


__all__ = ["FhirRestAdapter", "FhirSession", "HttpProbe", "Limits", "LoginSettings", "Reply", "Settings", "Token",
           "create"]
