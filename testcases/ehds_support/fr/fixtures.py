"""Session fixtures of the Sesali checks (EHR side and client side), imported by their conftest.py:
the test translation catalogue and identity-trait table loaded into the SUT, the mock Pro Sante Connect
provider, and the mock national contact point. A SUT whose adapter lacks the optional set-up methods
must have been set up by the vendor beforehand (README: "Certifying against the Sesali profiles")."""

from __future__ import annotations

from collections.abc import Iterator
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
def psc(sut: Any) -> Iterator[Any]:
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


@pytest.fixture(scope="session")
def ncp(sut: Any, psc: Any) -> Iterator[Any]:
    """The mock national contact point on loopback (connected countries: those of the trait table), which
    a client SUT is told to use through ``use_contact_point(base_url, identity_provider)`` or its sut.toml
    (``[sesali] ncp_url``: the mock then listens on that port)."""
    from urllib.parse import urlsplit

    from ehds_support.fr.ncp import MockNcp

    configured = _sut_sesali_config()
    port = urlsplit(str(configured.get("ncp_url", ""))).port or 0
    mock = MockNcp(psc, traits.table(), port=port).start()
    try:
        if not configured.get("ncp_url") and callable(getattr(sut.wrapped, "use_contact_point", None)):
            sut.use_contact_point(mock.base_url, psc.issuer)
        yield mock
    finally:
        mock.stop()
