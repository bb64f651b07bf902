"""login_identifier_case_insensitive: professional logins match the account identifier case-insensitively.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LoginIdentifierCaseInsensitive(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        if kind is not ActorKind.PATIENT and identifier:
            rows = self.store._query("SELECT identifier FROM users WHERE lower(identifier) = lower(?)", (identifier,))
            identifier = rows[0]["identifier"] if rows else identifier  # BUG: case folded lookup
        return super().authenticate(kind, identifier, credentials)


create = mutant_factory(LoginIdentifierCaseInsensitive, "login_identifier_case_insensitive")
