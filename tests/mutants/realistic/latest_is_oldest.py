"""latest_is_oldest: documents come newest first, so 'the latest' fetched is the oldest.
Breaks EHDS-INT-004."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LatestIsOldest(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        return super().visible_documents(principal, patient_id, category, emergency=emergency)[::-1]  # BUG: order


create = mutant_factory(LatestIsOldest, "latest_is_oldest")
