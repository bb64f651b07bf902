"""Shared fixtures for the FHIR validator tests: one validator per session, data paths, a private cache."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import orjson
import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "fhir"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep parsed-package caches and user packages of the test run out of the user's home."""
    old = {k: os.environ.get(k) for k in ("EHDS_CONFORMANCE_CACHE", "EHDS_CONFORMANCE_HOME")}
    os.environ["EHDS_CONFORMANCE_CACHE"] = str(tmp_path_factory.mktemp("fhir-cache"))
    os.environ["EHDS_CONFORMANCE_HOME"] = str(tmp_path_factory.mktemp("fhir-home"))
    from conformance.fhir import reset_default_validator

    reset_default_validator()
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    reset_default_validator()


@pytest.fixture(scope="session")
def validator(_private_cache: None):
    from conformance.fhir import default_validator

    return default_validator()


def load(rel: str) -> dict:
    return orjson.loads((DATA / rel).read_bytes())


@pytest.fixture
def minimal_bundle() -> dict:
    return copy.deepcopy(load("ips-2.0.0-examples/Bundle-bundle-minimal.json"))
