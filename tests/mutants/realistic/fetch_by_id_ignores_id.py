"""fetch_by_id_ignores_id: when a category is given too, fetch returns the latest document of the category, not the one asked.
Breaks EHDS-INT-004."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class FetchByIdIgnoresId(ReferenceEHR):
    def fetch(self, principal: Principal, patient_id: str, category: str | None = None, *,
              document_id: str | None = None, emergency_purpose: str | None = None) -> dict[str, Any]:
        if category is not None:
            document_id = None  # BUG: the category route wins over the id
        return super().fetch(principal, patient_id, category, document_id=document_id,
                             emergency_purpose=emergency_purpose)


create = mutant_factory(FetchByIdIgnoresId, "fetch_by_id_ignores_id")
