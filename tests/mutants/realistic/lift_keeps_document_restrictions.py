"""lift_keeps_document_restrictions: a new restriction is added to the earlier ones instead of replacing them: lifted documents stay hidden.
Breaks EHDS-SEC-007."""

from __future__ import annotations

from conformance.adapter import Restriction
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LiftKeepsDocumentRestrictions(ReferenceEHR):
    def restrict(self, principal: Principal, patient_id: str, restriction: Restriction) -> None:
        old = self.store.restriction(patient_id) if self.store.patient(patient_id) else None
        if old is not None:  # BUG: merged, never replaced
            restriction = Restriction(restriction.document_ids | old.document_ids, restriction.categories)
        super().restrict(principal, patient_id, restriction)


create = mutant_factory(LiftKeepsDocumentRestrictions, "lift_keeps_document_restrictions")
