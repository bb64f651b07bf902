"""accepts_anonymous: a caller without any credentials is let in as a health professional.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class AcceptsAnonymous(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        if kind is ActorKind.ANONYMOUS:
            return Principal(ActorKind.HEALTH_PROFESSIONAL, "", "anonymous")  # BUG: no login needed
        return super().authenticate(kind, identifier, credentials)


create = mutant_factory(AcceptsAnonymous, "accepts_anonymous")
