"""log_without_origin: log entries do not name where the data came from (Annex II 3.2(e)).
Breaks EHDS-LOG-006."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWithoutOrigin(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        # BUG: the origin (custodian organisation) entities are dropped
        audit["entity"] = [e for e in audit.get("entity", []) if e.get("type", {}).get("code") != "3"]
        return audit


create = mutant_factory(LogWithoutOrigin, "log_without_origin")
