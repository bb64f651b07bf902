"""patient_cannot_read_own_log: only auditors may read the access log; the patient is refused.
Breaks EHDS-LOG-009 (Art 9)."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PatientCannotReadOwnLog(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if action == "read-log" and principal.kind is ActorKind.PATIENT:
            return False  # BUG: Art 9 access not offered
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(PatientCannotReadOwnLog, "patient_cannot_read_own_log")
