"""emergency_purpose_not_logged: emergency access is flagged BTG but the stated purpose is not kept.
Breaks EHDS-LOG-012."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyPurposeNotLogged(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        for purpose in audit.get("purposeOfEvent") or []:
            purpose.pop("text", None)  # BUG: free text dropped by the code-only mapping
        return audit


create = mutant_factory(EmergencyPurposeNotLogged, "emergency_purpose_not_logged")
