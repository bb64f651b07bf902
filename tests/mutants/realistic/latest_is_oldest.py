"""latest_is_oldest: documents come newest first, so 'the latest' fetched is the oldest.

The EHR sorts a patient's documents newest first by document date (for the screen), and the export
still takes the last of the list as "the latest", as it did when documents were kept oldest first.
Breaks EHDS-INT-004."""

from __future__ import annotations

from conformance.adapter import document_time
from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LatestIsOldest(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        docs = super().visible_documents(principal, patient_id, category, emergency=emergency)
        return sorted(docs, key=lambda d: (document_time(d.date), d.seq), reverse=True)  # newest first

    def latest_document(self, documents: list[DocumentRow]) -> DocumentRow | None:
        return documents[-1] if documents else None  # BUG: still assumes oldest first


create = mutant_factory(LatestIsOldest, "latest_is_oldest")
