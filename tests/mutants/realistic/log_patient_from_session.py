"""log_patient_from_session: a patient's refused request is logged about the requesting patient, not about the patient whose data was asked.
Breaks EHDS-LOG-007."""

from __future__ import annotations

from typing import Any

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogPatientFromSession(ReferenceEHR):
    def _audit_entities(self, event: AccessEvent) -> list[dict[str, Any]]:
        entities = super()._audit_entities(event)
        principal = event.principal
        if principal is not None and principal.kind is ActorKind.PATIENT and principal.patient_id:
            for entity in entities:  # BUG: the patient entity comes from the session context
                if (entity.get("what") or {}).get("type") == "Patient":
                    entity["what"] = {"reference": f"Patient/{principal.patient_id}", "type": "Patient"}
        return entities


create = mutant_factory(LogPatientFromSession, "log_patient_from_session")
