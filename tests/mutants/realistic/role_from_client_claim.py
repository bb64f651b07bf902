"""role_from_client_claim: the role is taken from what the client claims: a professional's login works as an auditor.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class RoleFromClientClaim(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        user = self.store.user(identifier) if kind is not ActorKind.PATIENT else None
        if user is not None and user["kind"] != kind.value:
            granted = super().authenticate(ActorKind(user["kind"]), identifier, credentials)
            return Principal(kind, granted.identifier, granted.name, granted.organisation)  # BUG: claimed role
        return super().authenticate(kind, identifier, credentials)


create = mutant_factory(RoleFromClientClaim, "role_from_client_claim")
