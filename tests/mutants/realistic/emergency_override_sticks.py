"""emergency_override_sticks: after an emergency access, the professional keeps seeing the restricted documents.
Breaks EHDS-SEC-007."""

from __future__ import annotations

from conformance.adapters.reference.service import DocumentRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyOverrideSticks(ReferenceEHR):
    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        glass = self.__dict__.setdefault("_glass", set())
        if emergency:
            glass.add((principal.identifier, patient_id))
        emergency = emergency or (principal.identifier, patient_id) in glass  # BUG: override cached in the session
        return super().visible_documents(principal, patient_id, category, emergency=emergency)


create = mutant_factory(EmergencyOverrideSticks, "emergency_override_sticks")
