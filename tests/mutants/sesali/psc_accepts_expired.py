"""psc_accepts_expired: the expiry is never checked on Pro Sante Connect ID tokens. Breaks FR-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscAcceptsExpired(ReferenceEHR):
    def check_expiry(self, claims: Mapping[str, Any]) -> None:
        return None  # BUG: the expiry is never checked


create = mutant_factory(PscAcceptsExpired, "psc_accepts_expired")
