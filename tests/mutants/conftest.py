"""The mutant catalogue asserts verdicts only (which requirement fails, and that nothing else
does): its runs do not shrink (the `verdicts_only` fixture of tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _verdicts_without_shrinking(verdicts_only: None) -> None:
    """Every test of the catalogue runs with $CONFORMANCE_SHRINK=0."""
