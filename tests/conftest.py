"""Shared configuration of the harness's own tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run long explorations (marked slow)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long exploration: run with --run-slow (tox -e explore)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def verdicts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that assert verdicts only: hypothesis does not shrink ($CONFORMANCE_SHRINK=0, also for the
    `conformance run` subprocesses they start). Shrinking changes a failing check's evidence, never its
    verdict, and it was most of a failing run's time (a server-side mutant over HTTP: 31 s -> 10 s).
    tests/stateful/test_replay.py and the tests that read evidence keep it on."""
    monkeypatch.setenv("CONFORMANCE_SHRINK", "0")
