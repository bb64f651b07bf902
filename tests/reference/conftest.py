"""Fixtures for the reference EHR's tests: a real SQLite file per test, real accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from conformance.adapter import ActorKind
from conformance.adapters.reference.accounts import provision_sandbox
from conformance.adapters.reference.service import Principal, ReferenceEHR


class Clock:
    """A settable clock (aware, with a +02:00 offset to prove offsets survive)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@dataclass
class World:
    ehr: ReferenceEHR
    clock: Clock
    hp: Principal
    hp_other: Principal
    auditor: Principal
    passwords: dict[str, str]

    def patient(self, identifier: str) -> Principal:
        return self.ehr.authenticate(ActorKind.PATIENT, identifier, {"password": self.passwords["patient"]})


PASSWORDS = {"hp": "hp-pass", "hp_other": "hp-other-pass", "auditor": "auditor-pass", "patient": "patient-pass"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(tmp_path, clock: Clock) -> Iterator[World]:
    ehr = ReferenceEHR(tmp_path / "ehr.sqlite", clock=clock, validation="structural")
    accounts = provision_sandbox(ehr, PASSWORDS)
    login = {name: ehr.authenticate(a.kind, a.identifier, a.credentials)
             for name, a in (("hp", accounts.hp), ("hp_other", accounts.hp_other), ("auditor", accounts.auditor))}
    yield World(ehr, clock, login["hp"], login["hp_other"], login["auditor"], dict(PASSWORDS))
    ehr.close()
