"""emergency_not_flagged_in_log: emergency access works, but its log entry looks like an
ordinary read (no BTG purpose of use). Breaks EHDS-LOG-012."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyNotFlaggedInLog(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        audit.pop("purposeOfEvent", None)  # BUG: the override is not marked
        return audit


create = mutant_factory(EmergencyNotFlaggedInLog, "emergency_not_flagged_in_log")
