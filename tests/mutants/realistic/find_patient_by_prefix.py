"""find_patient_by_prefix: patient lookup matches identifier values by prefix.
Breaks EHDS-INT-002."""

from __future__ import annotations

from conformance.adapter import NotFound
from conformance.adapters.reference.service import Principal, ReferenceEHR, _split
from tests.mutants._factory import mutant_factory


class FindPatientByPrefix(ReferenceEHR):
    def find_patient(self, principal: Principal, identifier: str) -> str:
        system, value = _split(identifier)
        rows = self.store._query("SELECT patient_id FROM patient_identifiers WHERE system = ? AND value LIKE ? "
                                 "ORDER BY rowid", (system, value + "%"))  # BUG: LIKE without exact match
        if not value or not rows:
            raise NotFound(f"no patient with identifier {identifier!r}")
        return rows[0]["patient_id"]


create = mutant_factory(FindPatientByPrefix, "find_patient_by_prefix")
