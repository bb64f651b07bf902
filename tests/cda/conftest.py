"""A private on-disk cache for compiled Schematron, so these tests never touch the user's cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_schematron_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path_factory.mktemp("cda-cache")))
    yield
    mp.undo()
