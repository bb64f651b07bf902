"""accepts_wrong_password: a known user identifier is enough; the password is not checked.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind, Organisation
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class AcceptsWrongPassword(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        user = self.store.user(identifier) if identifier else None
        if user is not None and user["kind"] == kind.value:  # BUG: the password is never compared
            org = Organisation(user["org_identifier"], user["org_name"]) if user["org_identifier"] else None
            return Principal(kind, identifier, user["name"], org)
        return super().authenticate(kind, identifier, credentials)


create = mutant_factory(AcceptsWrongPassword, "accepts_wrong_password")
