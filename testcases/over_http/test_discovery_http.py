"""EHDS-SEC-002: the resource server says where and how to get a token (SMART configuration)."""

from __future__ import annotations

import json

import pytest

from conformance.adapter import Capability

REQ = "EHDS-SEC-002"


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_smart_configuration_is_published(http, evidence):
    """Procedure: GET [base]/.well-known/smart-configuration; require HTTP 200 with a JSON object whose
    token_endpoint is an http(s) URL (https when the SUT is reached over TLS), whose grant_types_supported contains
    client_credentials and whose token_endpoint_auth_methods_supported contains private_key_jwt; a
    token_endpoint_auth_signing_alg_values_supported naming neither RS384 nor ES384 is only noted (SHOULD).
    Observed: the status and the token endpoint, grant types, auth methods, signing algorithms and scopes (recorded
    as evidence). Decides EHDS-SEC-002: the resource server must publish its token endpoint and supported grant
    types at the well-known SMART location; a missing configuration, no token endpoint, or no client_credentials /
    private_key_jwt (the backend-services method the other checks use) fails."""
    response = http.smart_configuration()
    assert response.status_code == 200, (
        f"no SMART configuration: {response.describe()}; publish it at [base]/.well-known/smart-configuration")
    try:
        config = json.loads(response.content)
    except ValueError:
        raise AssertionError("the SMART configuration is not JSON") from None
    assert isinstance(config, dict), "the SMART configuration is not a JSON object"
    evidence.add("smart-configuration", {k: config.get(k) for k in (
        "token_endpoint", "grant_types_supported", "token_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported", "scopes_supported")})
    endpoint = config.get("token_endpoint")
    assert isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")), (
        "the SMART configuration names no token_endpoint URL")
    if http.uses_tls:
        assert endpoint.startswith("https://"), f"the token endpoint {endpoint} is not served over TLS"
    grants = config.get("grant_types_supported") or []
    assert "client_credentials" in grants, (
        f"grant_types_supported {grants} lacks client_credentials (SMART Backend Services)")
    methods = config.get("token_endpoint_auth_methods_supported") or []
    assert "private_key_jwt" in methods, (
        f"token_endpoint_auth_methods_supported {methods} lacks private_key_jwt")
    algs = set(config.get("token_endpoint_auth_signing_alg_values_supported") or [])
    if not algs & {"RS384", "ES384"}:
        evidence.note("SHOULD: token_endpoint_auth_signing_alg_values_supported names neither RS384 nor ES384")
