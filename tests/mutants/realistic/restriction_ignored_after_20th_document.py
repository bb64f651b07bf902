"""restriction_ignored_after_20th_document: the restriction is applied to the first 20 documents of a patient only.
Breaks EHDS-SEC-007."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class RestrictionIgnoredAfter20thDocument(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        first = {d.id for d in self.store.documents(patient_id)[:20]}  # BUG: restriction cache holds one page
        visible = set(d.id for d in super().visible_documents(principal, patient_id, category, emergency=emergency))
        return [d for d in self.store.documents(patient_id, category) if d.id in visible or d.id not in first]


create = mutant_factory(RestrictionIgnoredAfter20thDocument, "restriction_ignored_after_20th_document")
