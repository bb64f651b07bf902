"""traits_partial_identifier: an identifier trait matches any identifier that starts with the value given.
Breaks FR-005 (partial identifiers never match)."""

from __future__ import annotations

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class TraitsPartialIdentifier(ReferenceEHR):
    def candidates(self, system: str, value: str) -> list[str]:
        rows = self.store._query(  # BUG: a prefix search
            "SELECT patient_id FROM patient_identifiers WHERE system = ? AND value LIKE ?", (system, value + "%"))
        return [r["patient_id"] for r in rows]


create = mutant_factory(TraitsPartialIdentifier, "traits_partial_identifier")
