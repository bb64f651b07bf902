"""purpose_fetch_skips_authorization: the consent-bound access checks the consent, not who is asking.
Breaks FR-003.

The cross-border access path treats the patient's consent as its only gate; actors the consent rule does not
concern (a patient) are served any patient's summary. Found by the mutation survey (tests/mutants/survey.py:
dropping the authorisation of the reference's consent-bound fetch survived)."""

from __future__ import annotations

import threading
from typing import Any

from conformance.adapters.reference.service import PatientRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class PurposeFetchSkipsAuthorization(ReferenceEHR):
    _purpose = threading.local()

    def fetch_for_purpose(self, principal: Principal, patient_id: str, category: str, purpose: str, *,
                          document_id: str | None = None) -> dict[str, Any]:
        self._purpose.active = True
        try:
            return super().fetch_for_purpose(principal, patient_id, category, purpose, document_id=document_id)
        finally:
            self._purpose.active = False

    def authorize(self, principal: Principal, action: str, patient: PatientRow | None,
                  categories: tuple[str, ...] = ()) -> None:
        if action == "fetch" and getattr(self._purpose, "active", False):
            return  # BUG: the consent rule is taken as the only gate
        super().authorize(principal, action, patient, categories)


create = mutant_factory(PurposeFetchSkipsAuthorization, "purpose_fetch_skips_authorization")
