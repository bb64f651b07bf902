"""professionals_cannot_submit: the role table leaves "submit" out for health professionals.

Every check that needs a document filed by the professional meets a refusal (Denied) of a step it did not
examine and ends not-tested; before this mutant, nothing failed and the run ended "incomplete" with exit 0.
EHDS-GEN-001 (declared categories are served) now fails: the professional account the adapter supplies was
refused a valid document of a declared category. Found by the mutation survey (tests/mutants/survey.py)."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ProfessionalsCannotSubmit(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if principal.kind is ActorKind.HEALTH_PROFESSIONAL and action == "submit":
            return False  # BUG: the role table lost a row
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(ProfessionalsCannotSubmit, "professionals_cannot_submit")
