"""log_copies_payload: each log entry of a read carries the clinical document served.
Breaks EHDS-LOG-014 (log entries hold no payload)."""

from __future__ import annotations

import json
from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogCopiesPayload(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        for document in event.documents:
            audit.setdefault("entity", []).append({
                "what": {"display": "document served"},
                "detail": [{"type": "payload", "valueString": json.dumps(document.fhir()) if document.format == "fhir" else ""}],  # BUG
            })
        return audit


create = mutant_factory(LogCopiesPayload, "log_copies_payload")
