"""patient_login_by_prefix: a patient logs in with any prefix of a known identifier.
Breaks EHDS-SEC-006."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR, _split
from tests.mutants._factory import mutant_factory


class PatientLoginByPrefix(ReferenceEHR):
    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        if kind is ActorKind.PATIENT and identifier:
            system, value = _split(identifier)
            rows = self.store._query("SELECT value FROM patient_identifiers WHERE system = ? AND value LIKE ? "
                                     "ORDER BY rowid", (system, value + "%"))
            if rows:  # BUG: LIKE 'value%' lookup
                identifier = f"{system}|{rows[0]['value']}"
        return super().authenticate(kind, identifier, credentials)


create = mutant_factory(PatientLoginByPrefix, "patient_login_by_prefix")
