"""find_patient_ignores_system: a patient lookup matches the identifier value in any system,
so another assigner's identifier finds the wrong person. Breaks EHDS-INT-002."""

from __future__ import annotations

from conformance.adapter import NotFound
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class FindPatientIgnoresSystem(ReferenceEHR):
    def find_patient(self, principal: Principal, identifier: str) -> str:
        try:
            return super().find_patient(principal, identifier)
        except NotFound:
            value = identifier.partition("|")[2]
            rows = self.store._query("SELECT patient_id FROM patient_identifiers WHERE value = ?", (value,))
            if not rows:
                raise
            return str(rows[0]["patient_id"])  # BUG: same value under another system taken for the same person


create = mutant_factory(FindPatientIgnoresSystem, "find_patient_ignores_system")
