"""partial_export: the complete export for system replacement leaves out the patient's oldest
document (an off-by-one in the export's paging). Breaks EHDS-INT-011."""

from __future__ import annotations

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class PartialExport(ReferenceEHR):
    def exportable_documents(self, patient_id: str) -> list[DocumentRow]:
        return super().exportable_documents(patient_id)[1:]  # BUG: the first page starts at offset 1


create = mutant_factory(PartialExport, "partial_export")
