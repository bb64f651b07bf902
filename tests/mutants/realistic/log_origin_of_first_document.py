"""log_origin_of_first_document: the origin logged is the custodian of the patient's first document, whatever was served.
Breaks EHDS-LOG-006."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ORIGIN_DETAIL, AccessEvent, ReferenceEHR, _ident
from tests.mutants._factory import mutant_factory


class LogOriginOfFirstDocument(ReferenceEHR):
    def _audit_entities(self, event: AccessEvent) -> list[dict[str, Any]]:
        entities = super()._audit_entities(event)
        if event.patient is not None and event.documents:
            first = self.store.documents(event.patient.id)[0]  # BUG: origin read from the record, not the data
            for entity in entities:
                if any(d.get("type") == ORIGIN_DETAIL for d in entity.get("detail") or []):
                    entity["what"]["identifier"] = _ident(first.origin_identifier)
        return entities


create = mutant_factory(LogOriginOfFirstDocument, "log_origin_of_first_document")
