"""leaks_restricted_data: the patient's restriction is stored but never applied.
Breaks EHDS-SEC-007."""

from __future__ import annotations

from conformance.adapter import Restriction
from conformance.adapters.reference.service import Principal, ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class LeaksRestrictedData(ReferenceEHR):
    def withholds(self, principal: Principal, document: DocumentRow, restriction: Restriction, *,
                  emergency: bool) -> bool:
        return False  # BUG: nothing is ever withheld


create = mutant_factory(LeaksRestrictedData, "leaks_restricted_data")
