"""withdrawal_ignored: a withdrawn consent still counts. Breaks FR-003."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class WithdrawalIgnored(ReferenceEHR):
    def consent_in_force(self, row: Mapping[str, Any]) -> bool:
        return True  # BUG: withdrawn consents stay in force


create = mutant_factory(WithdrawalIgnored, "withdrawal_ignored")
