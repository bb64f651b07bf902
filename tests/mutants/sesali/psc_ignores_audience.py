"""psc_ignores_audience: the audience is never compared on Pro Sante Connect ID tokens. Breaks FR-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscIgnoresAudience(ReferenceEHR):
    def check_audience(self, claims: Mapping[str, Any]) -> None:
        return None  # BUG: the audience is never compared


create = mutant_factory(PscIgnoresAudience, "psc_ignores_audience")
