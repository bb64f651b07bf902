"""The mutant catalogue asserts verdicts only (which requirement fails, and that nothing else
does). Shrinking changes the evidence, never the verdict, and was most of a failing mutant's run
time, so these runs turn it off ($CONFORMANCE_SHRINK=0). tests/stateful/test_replay.py keeps
shrinking on and checks the shrunk sequence and its replay command."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _verdicts_without_shrinking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_SHRINK", "0")
