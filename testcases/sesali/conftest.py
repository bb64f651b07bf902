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
