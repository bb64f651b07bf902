"""ordinary_reads_flagged_after_emergency: after one emergency access, every later access to that patient is logged as an emergency too.
Breaks EHDS-LOG-012."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ACT_REASON, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class OrdinaryReadsFlaggedAfterEmergency(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        glass = self.__dict__.setdefault("_glass", set())
        if event.patient is not None:
            if event.emergency_purpose:
                glass.add(event.patient.id)
            elif event.patient.id in glass and event.outcome == "0":  # BUG: sticky break-the-glass flag
                audit["purposeOfEvent"] = [{"coding": [{"system": ACT_REASON, "code": "BTG"}]}]
        return audit


create = mutant_factory(OrdinaryReadsFlaggedAfterEmergency, "ordinary_reads_flagged_after_emergency")
