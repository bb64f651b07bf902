"""emergency_english_keywords_only: emergency access is granted only when the purpose contains an English keyword.
Breaks EHDS-SEC-008."""

from __future__ import annotations

from conformance.adapter import Denied
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyEnglishKeywordsOnly(ReferenceEHR):
    def check_emergency_purpose(self, principal: Principal, purpose: str) -> str:
        cleaned = super().check_emergency_purpose(principal, purpose)
        if not any(word in cleaned.lower() for word in ("emergency", "unconscious", "vital", "urgent")):
            raise Denied("state the emergency")  # BUG: keyword list instead of a stated purpose
        return cleaned


create = mutant_factory(EmergencyEnglishKeywordsOnly, "emergency_english_keywords_only")
