"""emergency_nbsp_purpose_accepted: a purpose of non-breaking or ideographic spaces counts as stated.
Breaks EHDS-SEC-008."""

from __future__ import annotations

from conformance.adapter import Denied
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class EmergencyNbspPurposeAccepted(ReferenceEHR):
    def check_emergency_purpose(self, principal: Principal, purpose: str) -> str:
        if purpose.strip(" \t\r\n"):  # BUG: ASCII whitespace only
            return purpose
        raise Denied("emergency access needs a stated purpose")


create = mutant_factory(EmergencyNbspPurposeAccepted, "emergency_nbsp_purpose_accepted")
