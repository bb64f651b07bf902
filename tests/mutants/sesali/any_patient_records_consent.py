"""any_patient_records_consent: a signed-in patient may record or withdraw anyone's consent. Breaks FR-003.

The consent screens check that the caller is a patient, not that it is their own record. Found by the mutation
survey (tests/mutants/survey.py: dropping the reference's authorisation of a consent recording survived)."""

from __future__ import annotations

from conformance.adapter import ActorKind
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class AnyPatientRecordsConsent(ReferenceEHR):
    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        if action == "consent" and principal.kind is ActorKind.PATIENT:
            return True  # BUG: any patient, any record
        return super().is_permitted(principal, action, patient_id)


create = mutant_factory(AnyPatientRecordsConsent, "any_patient_records_consent")
