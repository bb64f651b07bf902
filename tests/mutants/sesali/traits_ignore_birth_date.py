"""traits_ignore_birth_date: the birth date trait is never compared. Breaks FR-005."""

from __future__ import annotations

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import PatientRow
from tests.mutants._factory import mutant_factory


class TraitsIgnoreBirthDate(ReferenceEHR):
    def trait_matches(self, patient: PatientRow, trait: str, system: str, value: str) -> bool:
        if trait == "birth_date":
            return True  # BUG: any birth date matches
        return super().trait_matches(patient, trait, system, value)


create = mutant_factory(TraitsIgnoreBirthDate, "traits_ignore_birth_date")
