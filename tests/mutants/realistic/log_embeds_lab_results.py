"""log_embeds_lab_results: reads of laboratory documents carry the served Bundle inside the log entry.
Breaks EHDS-LOG-014."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogEmbedsLabResults(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        if event.action == "read" and any(d.category == "laboratory" for d in event.documents):
            audit["contained"] = [d.fhir() for d in event.documents if d.format == "fhir"]  # BUG: lab module logs results
        return audit


create = mutant_factory(LogEmbedsLabResults, "log_embeds_lab_results")
