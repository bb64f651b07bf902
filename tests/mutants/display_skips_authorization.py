"""display_skips_authorization: the translated display renders any patient's summary for any signed-in actor.

The screen looks the summary up by patient id and skips the access rule the fetch path applies, so a patient
can be shown another patient's summary. Found by the mutation survey (tests/mutants/survey.py: the reference's
authorisation in displayed_summary dropped). Breaks EHDS-SEC-004 (under fr-sesali, where the display is
offered)."""

from __future__ import annotations

import threading

from conformance.adapter import DisplayedSummary
from conformance.adapters.reference.service import PatientRow, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class DisplaySkipsAuthorization(ReferenceEHR):
    _display = threading.local()

    def displayed_summary(self, principal: Principal, patient_id: str, *, document_id: str | None = None,
                          language: str = "fr-FR") -> DisplayedSummary:
        self._display.active = True
        try:
            return super().displayed_summary(principal, patient_id, document_id=document_id, language=language)
        finally:
            self._display.active = False

    def authorize(self, principal: Principal, action: str, patient: PatientRow | None,
                  categories: tuple[str, ...] = ()) -> None:
        if getattr(self._display, "active", False):
            return  # BUG: the screen never asks
        super().authorize(principal, action, patient, categories)


create = mutant_factory(DisplaySkipsAuthorization, "display_skips_authorization")
