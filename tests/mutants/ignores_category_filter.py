"""ignores_category_filter: a search by document type returns every document of the patient.
Breaks EHDS-INT-003 (documents discoverable by patient and type)."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class IgnoresCategoryFilter(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        return super().visible_documents(principal, patient_id, None, emergency=emergency)  # BUG: type ignored


create = mutant_factory(IgnoresCategoryFilter, "ignores_category_filter")
