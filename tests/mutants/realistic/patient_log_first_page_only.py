"""patient_log_first_page_only: the patient's own view of the log shows the first 20 entries only (no next page).
Breaks EHDS-LOG-009."""

from __future__ import annotations

from typing import Any

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PatientLogFirstPageOnly(ReferenceEHR):
    def access_log(self, principal: Principal, patient_id: str) -> list[dict[str, Any]]:
        entries = super().access_log(principal, patient_id)
        return entries[:20] if principal.kind is ActorKind.PATIENT else entries  # BUG: paging dropped


create = mutant_factory(PatientLogFirstPageOnly, "patient_log_first_page_only")
