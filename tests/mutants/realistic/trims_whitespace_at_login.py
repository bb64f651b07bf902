"""trims_whitespace_at_login: passwords are trimmed before checking, so a password with a trailing space is accepted.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class TrimsWhitespaceAtLogin(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        password = str((credentials or {}).get("password", ""))
        return super().authenticate(kind, identifier, {**dict(credentials or {}), "password": password.strip()})


create = mutant_factory(TrimsWhitespaceAtLogin, "trims_whitespace_at_login")
