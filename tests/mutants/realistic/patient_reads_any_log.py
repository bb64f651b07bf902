"""patient_reads_any_log: a patient's session may read any patient's access log.
Breaks EHDS-SEC-004."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PatientReadsAnyLog(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if principal.kind is ActorKind.PATIENT and action == "read-log":
            return True  # BUG: the patient compartment is not checked for the log
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(PatientReadsAnyLog, "patient_reads_any_log")
