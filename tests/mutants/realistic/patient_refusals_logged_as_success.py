"""patient_refusals_logged_as_success: a patient's refused request is logged with outcome 0 (success).
Breaks EHDS-LOG-013."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import SUCCESS, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PatientRefusalsLoggedAsSuccess(ReferenceEHR):
    def log_access(self, event: AccessEvent) -> None:
        if event.principal is not None and event.principal.kind is ActorKind.PATIENT:
            event = type(event)(**{**event.__dict__, "outcome": SUCCESS})  # BUG: outcome not mapped
        super().log_access(event)


create = mutant_factory(PatientRefusalsLoggedAsSuccess, "patient_refusals_logged_as_success")
