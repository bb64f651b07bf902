"""log_without_patient: AuditEvents do not identify the patient (the EHR still files them per
patient internally, so the log can be read per patient). Breaks EHDS-LOG-007."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import BALP, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWithoutPatient(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        # BUG: the patient entity (type 1 Person / role 1 Patient) is dropped; the entry then
        # claims the patient-less BALP pattern (Read instead of PatientRead, ...)
        audit["entity"] = [e for e in audit.get("entity", []) if e.get("role", {}).get("code") != "1"]
        if not audit["entity"]:
            del audit["entity"]
        if "meta" in audit:
            audit["meta"]["profile"] = [p.replace(BALP + "Patient", BALP) for p in audit["meta"]["profile"]]
        return audit


create = mutant_factory(LogWithoutPatient, "log_without_patient")
