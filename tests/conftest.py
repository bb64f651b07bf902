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
