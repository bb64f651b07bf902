"""patient_lists_any_record: a patient's session may list any patient's documents.
Breaks EHDS-SEC-004."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PatientListsAnyRecord(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if principal.kind is ActorKind.PATIENT and action == "list":
            return True  # BUG: the search endpoint forgets the compartment
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(PatientListsAnyRecord, "patient_lists_any_record")
