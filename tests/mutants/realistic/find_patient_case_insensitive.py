"""find_patient_case_insensitive: patient lookup ignores the case of the identifier value.
Breaks EHDS-INT-002."""

from __future__ import annotations

from conformance.adapter import Denied, NotFound
from conformance.adapters.reference.service import Principal, ReferenceEHR, _split
from tests.mutants._factory import mutant_factory


class FindPatientCaseInsensitive(ReferenceEHR):
    def find_patient(self, principal: Principal, identifier: str) -> str:
        system, value = _split(identifier)
        rows = self.store._query("SELECT patient_id FROM patient_identifiers WHERE system = ? AND lower(value) = lower(?)",
                                 (system, value))  # BUG: COLLATE NOCASE on a case-sensitive identifier
        patient_id = rows[0]["patient_id"] if value and rows else None
        if not self.is_permitted(principal, "find-patient", patient_id):
            raise Denied(f"a {principal.kind.value} may not look up this patient")
        if patient_id is None:
            raise NotFound(f"no patient with identifier {identifier!r}")
        return patient_id


create = mutant_factory(FindPatientCaseInsensitive, "find_patient_case_insensitive")
