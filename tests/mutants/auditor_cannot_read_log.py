"""auditor_cannot_read_log: the access log cannot be reviewed by an auditor (no analysis, no
export). Breaks EHDS-LOG-008; the log-content checks become inconclusive, not failed."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class AuditorCannotReadLog(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if principal.kind is ActorKind.AUDITOR and action == "read-log":
            return False  # BUG: nobody can review the log but the patient
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(AuditorCannotReadLog, "auditor_cannot_read_log")
