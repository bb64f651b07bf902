"""display_not_logged: showing a patient summary on screen (the translated display) writes no log entry.

The fetch path logs every read; the screen that renders the summary in the professional's language was added
later and never calls the logger. Found by the mutation survey (tests/mutants/survey.py: the reference's
log call in displayed_summary dropped). Breaks EHDS-LOG-001 (under fr-sesali, where the display is offered)."""

from __future__ import annotations

from conformance.adapter import DisplayedSummary
from conformance.adapters.reference.service import AccessEvent, Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class DisplayNotLogged(ReferenceEHR):
    def displayed_summary(self, principal: Principal, patient_id: str, *, document_id: str | None = None,
                          language: str = "fr-FR") -> DisplayedSummary:
        real = self.log_access

        def skip_reads(event: AccessEvent) -> None:
            if event.action != "read":
                real(event)  # BUG: the screen's own read is never written
        self.log_access = skip_reads  # type: ignore[method-assign]
        try:
            return super().displayed_summary(principal, patient_id, document_id=document_id, language=language)
        finally:
            del self.log_access


create = mutant_factory(DisplayNotLogged, "display_not_logged")
