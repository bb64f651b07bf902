"""ignores_consent: an access for cross-border care never needs the patient's consent.
Breaks FR-003 (patient consent before access)."""

from __future__ import annotations

from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class IgnoresConsent(ReferenceEHR):
    def consent_required(self, principal: Principal, purpose: str) -> bool:
        return False  # BUG: served without any consent


create = mutant_factory(IgnoresConsent, "ignores_consent")
