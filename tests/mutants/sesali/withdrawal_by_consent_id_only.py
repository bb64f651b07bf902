"""withdrawal_by_consent_id_only: a withdrawal finds the consent by its id alone, whoever's it is. Breaks FR-003.

The professional's "withdraw" is checked against the patient given in the request, but the consent withdrawn is
looked up by id only: a consent id given under another patient withdraws that other patient's consent. Found by
the mutation survey (tests/mutants/survey.py: the ownership test of the reference's withdrawal survived)."""

from __future__ import annotations

from conformance.adapter import NotFound
from conformance.adapters.reference.service import Principal, ReferenceEHR, _instant
from tests.mutants._factory import mutant_factory


class WithdrawalByConsentIdOnly(ReferenceEHR):
    def withdraw_consent(self, principal: Principal, patient_id: str, consent_id: str) -> None:
        patient = self._patient(patient_id)
        self.authorize(principal, "consent", patient)
        if self.store.consent(consent_id) is None:  # BUG: whose consent it is never compared
            raise NotFound(f"no consent {consent_id!r}")
        with self.store.transaction() as tx:
            tx.withdraw_consent(consent_id, _instant(self.clock()))


create = mutant_factory(WithdrawalByConsentIdOnly, "withdrawal_by_consent_id_only")
