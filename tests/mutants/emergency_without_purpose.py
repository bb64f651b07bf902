"""emergency_without_purpose: emergency access to restricted data is granted with a blank
purpose. Breaks EHDS-SEC-008 (Art 11(5))."""

from __future__ import annotations

from conformance.adapter import ActorKind, Denied
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyWithoutPurpose(ReferenceEHR):
    def check_emergency_purpose(self, principal: Principal, purpose: str) -> str:
        if principal.kind is not ActorKind.HEALTH_PROFESSIONAL:
            raise Denied("emergency access is for health professionals")
        return " ".join(purpose.split())  # BUG: an empty purpose is accepted


create = mutant_factory(EmergencyWithoutPurpose, "emergency_without_purpose")
