"""log_without_category: log entries do not say which categories of data were accessed
(Annex II 3.2(c)). Breaks EHDS-LOG-004."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import CATEGORY_DETAIL, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogWithoutCategory(ReferenceEHR):
    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        audit = super().build_audit_event(event)
        for entity in audit.get("entity", []):  # BUG: the category details are dropped
            details = [d for d in entity.get("detail", []) if d.get("type") != CATEGORY_DETAIL]
            if details:
                entity["detail"] = details
            else:
                entity.pop("detail", None)
        return audit


create = mutant_factory(LogWithoutCategory, "log_without_category")
