"""log_category_of_first_document: a read is logged with the category of the patient's first document, not of the one served.
Breaks EHDS-LOG-004."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import CATEGORY_DETAIL, AccessEvent, ReferenceEHR
from tests.mutants._factory import mutant_factory


class LogCategoryOfFirstDocument(ReferenceEHR):
    def _audit_entities(self, event: AccessEvent) -> list[dict[str, Any]]:
        entities = super()._audit_entities(event)
        if event.action == "read" and event.patient is not None:
            first = self.store.documents(event.patient.id)[0].category  # BUG: joined on the wrong row
            for entity in entities:
                for detail in entity.get("detail") or []:
                    if detail.get("type") == CATEGORY_DETAIL:
                        detail["valueString"] = first
        return entities


create = mutant_factory(LogCategoryOfFirstDocument, "log_category_of_first_document")
