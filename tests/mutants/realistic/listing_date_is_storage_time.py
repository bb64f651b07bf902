"""listing_date_is_storage_time: the listing gives the time the document was stored instead of its date.
Breaks EHDS-INT-003."""

from __future__ import annotations

from conformance.adapter import DocumentInfo
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ListingDateIsStorageTime(ReferenceEHR):
    def list_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                       emergency_purpose: str | None = None) -> list[DocumentInfo]:
        rows = self.list_document_rows(principal, patient_id, category, emergency_purpose=emergency_purpose)
        return [DocumentInfo(d.id, d.patient_id, d.category, d.title, d.stored,  # BUG: wrong column for the date
                             custodian=d.origin_identifier or None) for d in rows]


create = mutant_factory(ListingDateIsStorageTime, "listing_date_is_storage_time")
