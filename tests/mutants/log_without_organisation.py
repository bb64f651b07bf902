"""log_without_organisation: log entries omit the healthcare provider agent (Annex II 3.2(a)).
Breaks EHDS-LOG-002."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ROLE_CLASS, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWithoutOrganisation(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        audit["agent"] = [a for a in audit["agent"]  # BUG: the organisation agent is dropped
                          if not any(c.get("system") == ROLE_CLASS for c in a["type"]["coding"])]
        return audit


create = mutant_factory(LogWithoutOrganisation, "log_without_organisation")
