"""listing_drops_page_boundary: a listing of more than 20 documents loses the 21st (off-by-one at the page boundary).
Breaks EHDS-INT-003."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ListingDropsPageBoundary(ReferenceEHR):
    def list_document_rows(self, principal: Principal, patient_id: str, category: str | None = None, *,
                           emergency_purpose: str | None = None) -> list[DocumentRow]:
        rows = super().list_document_rows(principal, patient_id, category, emergency_purpose=emergency_purpose)
        return rows[:20] + rows[21:]  # BUG: page 2 starts at offset 21


create = mutant_factory(ListingDropsPageBoundary, "listing_drops_page_boundary")
