"""consent_for_anyone: a consent naming one professional lets every professional in. Breaks FR-003."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ConsentForAnyone(ReferenceEHR):
    def consent_covers(self, row: Mapping[str, Any], principal: Principal, purpose: str) -> bool:
        return row["purpose"] == purpose  # BUG: the grantee is ignored


create = mutant_factory(ConsentForAnyone, "consent_for_anyone")
