"""export_applies_restriction: the full export leaves out the documents the patient restricted.
Breaks EHDS-INT-011."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ExportAppliesRestriction(ReferenceEHR):
    def exportable_documents(self, patient_id: str) -> list[DocumentRow]:
        withheld = self.store.restriction(patient_id)
        return [d for d in super().exportable_documents(patient_id)  # BUG: care-access filter reused
                if d.id not in withheld.document_ids and d.category not in withheld.categories]


create = mutant_factory(ExportAppliesRestriction, "export_applies_restriction")
