"""Sandbox set-up of the Sesali checks: the test translation catalogue and the identity-trait table are
loaded into the SUT through the adapter's optional set-up methods; a SUT whose adapter lacks them must
have been loaded by the vendor beforehand (README: "Certifying against the Sesali profiles")."""

from __future__ import annotations

from typing import Any

import pytest

from ehds_support.fr import catalogue, traits


def _setup(sut: Any, method: str, payload: Any) -> str:
    if callable(getattr(sut.wrapped, method, None)):
        getattr(sut, method)(payload)
        return f"loaded into the SUT through the adapter's {method}()"
    return f"the adapter offers no {method}(): the vendor loaded it into the sandbox beforehand"


@pytest.fixture(scope="session")
def french_catalogue(sut: Any) -> str:
    """The test translation catalogue, in the SUT; returns how it got there (for evidence)."""
    return _setup(sut, "load_terminology", catalogue.resources())


@pytest.fixture(scope="session")
def identity_traits(sut: Any) -> str:
    """The per-country identity-trait table, in the SUT; returns how it got there (for evidence)."""
    return _setup(sut, "configure_identity_traits", traits.table())


def _sut_sesali_config() -> dict[str, Any]:
    """The ``[sesali]`` table of the SUT's configuration file (sut.toml), if any."""
    import os

    from conformance.adapter import load_config

    path = os.environ.get("CONFORMANCE_ADAPTER_CONFIG")
    table = load_config(path).get("sesali") if path else None
    return dict(table) if isinstance(table, dict) else {}


@pytest.fixture(scope="session")
def psc(sut: Any) -> Any:
    """The mock Pro Sante Connect provider on loopback, trusted by the SUT, for the session.

    The SUT learns the issuer either from its sut.toml (``[sesali] psc_issuer = "http://127.0.0.1:<port>/auth/
    realms/esante-wallet"``, ``psc_audience``: the mock then listens on that port) or, when the adapter
    offers it, through ``trust_identity_provider(issuer, audience)``."""
    from urllib.parse import urlsplit

    from ehds_support.fr.psc import MockPsc

    configured = _sut_sesali_config()
    port = urlsplit(str(configured.get("psc_issuer", ""))).port or 0
    mock = MockPsc(port=port, audience=str(configured.get("psc_audience") or "ehds-conformance-sut")).start()
    try:
        if not configured.get("psc_issuer") and callable(getattr(sut.wrapped, "trust_identity_provider", None)):
            sut.trust_identity_provider(mock.issuer, mock.audience)
        yield mock
    finally:
        mock.stop()
