"""consent_refusal_not_logged: an access refused for want of consent leaves no log entry. Breaks FR-003."""

from __future__ import annotations

from conformance.adapters.reference.service import Principal, ReferenceEHR
from conformance.adapters.reference.store import PatientRow
from tests.mutants._factory import mutant_factory


class ConsentRefusalNotLogged(ReferenceEHR):
    def log_consent_refusal(self, principal: Principal, patient: PatientRow, purpose: str,
                            categories: tuple[str, ...]) -> None:
        return None  # BUG: the refusal is not logged


create = mutant_factory(ConsentRefusalNotLogged, "consent_refusal_not_logged")
