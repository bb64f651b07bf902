"""find_patient_by_prefix: patient lookup matches identifier values by prefix.
Breaks EHDS-INT-002."""

from __future__ import annotations

from conformance.adapter import Denied, NotFound
from conformance.adapters.reference.service import Principal, ReferenceEHR, _split
from tests.mutants._factory import mutant_factory


class FindPatientByPrefix(ReferenceEHR):
    def find_patient(self, principal: Principal, identifier: str) -> str:
        system, value = _split(identifier)
        rows = self.store._query("SELECT patient_id FROM patient_identifiers WHERE system = ? AND value LIKE ? "
                                 "ORDER BY rowid", (system, value + "%"))  # BUG: LIKE without exact match
        patient_id = rows[0]["patient_id"] if value and rows else None
        if not self.is_permitted(principal, "find-patient", patient_id):
            raise Denied(f"a {principal.kind.value} may not look up this patient")
        if patient_id is None:
            raise NotFound(f"no patient with identifier {identifier!r}")
        return patient_id


create = mutant_factory(FindPatientByPrefix, "find_patient_by_prefix")
