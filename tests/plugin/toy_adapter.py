"""A tiny in-memory adapter for testing the plugin's own mechanics (not an EHR).

Its behaviour is steered by the `mode` config key so one module can play a
well-behaved SUT, a crashing one and a hanging one.
"""

from __future__ import annotations

import time
from typing import Any

from conformance.adapter import (
    Actor,
    ActorKind,
    Capability,
    Denied,
    Organisation,
    Receipt,
    SutDescription,
    TestAccounts,
)


class ToySession:
    def __init__(self, actor: Actor, mode: str) -> None:
        self.actor = actor
        self.mode = mode

    def submit(self, document: Any) -> Receipt:
        if self.mode == "crash":
            raise RuntimeError("database on fire")
        return Receipt("doc-1", "pat-1")

    def fetch(self, patient_id: str, category: str, **kw: Any) -> dict[str, Any]:
        if self.mode == "hang":
            time.sleep(60)
        return {"resourceType": "Bundle", "type": "document"}


class ToyAdapter:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode

    def describe(self) -> SutDescription:
        return SutDescription("toy", "1", "tests", frozenset({Capability.SUBMIT, Capability.EXPORT}),
                              produces=frozenset({"patient-summary"}))

    def test_accounts(self) -> TestAccounts:
        org = Organisation("urn:org|1", "Org")
        hp = Actor(ActorKind.HEALTH_PROFESSIONAL, "urn:hp|1", "Dr A", org, {"password": "pw"})
        return TestAccounts(hp=hp, hp_other=hp, auditor=Actor(ActorKind.AUDITOR, "urn:aud|1"))

    def login(self, actor: Actor) -> ToySession:
        if actor.kind is ActorKind.ANONYMOUS or actor.credentials.get("password") != "pw":
            raise Denied("bad credentials")
        return ToySession(actor, self.mode)

    def close(self) -> None:
        pass


def create(config: dict[str, Any] | None = None) -> ToyAdapter:
    return ToyAdapter((config or {}).get("mode", "ok"))
