"""Fixtures for the Sesali unit tests: a reference EHR on a temporary SQLite file with its sandbox
accounts, and the checks' helpers importable as ``ehds_support`` (as testcases/pytest.ini does)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTCASES = Path(__file__).resolve().parents[2] / "testcases"
if str(TESTCASES) not in sys.path:
    sys.path.insert(0, str(TESTCASES))

from conformance.adapters.reference.accounts import provision_sandbox  # noqa: E402
from conformance.adapters.reference.service import ReferenceEHR  # noqa: E402


@pytest.fixture
def ehr(tmp_path: Path) -> Iterator[ReferenceEHR]:
    service = ReferenceEHR(tmp_path / "ehr.sqlite", validation="structural")
    service.accounts = provision_sandbox(service, {"hp": "hp-pass", "hp_other": "other-pass",  # type: ignore[attr-defined]
                                                   "auditor": "aud-pass", "patient": "pat-pass"})
    yield service
    service.close()


def login(ehr: ReferenceEHR, name: str):
    actor = getattr(ehr.accounts, name)  # type: ignore[attr-defined]
    return ehr.authenticate(actor.kind, actor.identifier, actor.credentials)
