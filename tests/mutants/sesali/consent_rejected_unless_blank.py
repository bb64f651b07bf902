"""consent_rejected_unless_blank: the blank-purpose guard is inverted, so every real consent is rejected.
Breaks FR-003.

A consent can never be recorded, so no professional is ever served under consent. The consent checks used to end
not-tested on the rejection (a set-up step refused), leaving the run "incomplete"; a SUT that declares the
consent capability and rejects a consent with a purpose and a grantee now fails FR-003. Found by the mutation
survey (tests/mutants/survey.py: the `not` of the reference's purpose guard dropped)."""

from __future__ import annotations

from conformance.adapter import Consent, ConsentRecord, Rejected
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class ConsentRejectedUnlessBlank(ReferenceEHR):
    def record_consent(self, principal: Principal, patient_id: str, consent: Consent) -> ConsentRecord:
        if " ".join(str(consent.purpose).split()):  # BUG: `if not purpose` lost its `not`
            raise Rejected("a consent needs the purpose of the access it allows")
        return super().record_consent(principal, patient_id, consent)


create = mutant_factory(ConsentRejectedUnlessBlank, "consent_rejected_unless_blank")
