"""export_first_50_only: the full export stops after 50 documents.
Breaks EHDS-INT-011."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ExportFirst50Only(ReferenceEHR):
    def exportable_documents(self, patient_id: str) -> list[DocumentRow]:
        return super().exportable_documents(patient_id)[:50]  # BUG: first page only


create = mutant_factory(ExportFirst50Only, "export_first_50_only")
