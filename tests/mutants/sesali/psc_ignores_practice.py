"""psc_ignores_practice: anyone PSC authenticates gets in, practice authorisation in France or not.
Breaks FR-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscIgnoresPractice(ReferenceEHR):
    def practice_authorised(self, userinfo: Mapping[str, Any]) -> bool:
        return True  # BUG: no French practice needed


create = mutant_factory(PscIgnoresPractice, "psc_ignores_practice")
