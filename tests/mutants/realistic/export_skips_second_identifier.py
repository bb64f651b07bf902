"""export_skips_second_identifier: the full export leaves out documents received under another identifier of the patient.
Breaks EHDS-INT-011."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ExportSkipsSecondIdentifier(ReferenceEHR):
    def exportable_documents(self, patient_id: str) -> list[DocumentRow]:
        patient = self.store.patient(patient_id)
        main = patient.identifiers[0][1] if patient and patient.identifiers else ""
        return [d for d in super().exportable_documents(patient_id)
                if d.format != "fhir" or main in d.content.decode("utf-8")]  # BUG: joined on the main identifier


create = mutant_factory(ExportSkipsSecondIdentifier, "export_skips_second_identifier")
