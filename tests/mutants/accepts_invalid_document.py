"""accepts_invalid_document: anything the EHR can make sense of is accepted, valid or not.
Breaks EHDS-INT-012."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.issues import ValidationIssue
from tests.mutants._factory import mutant_factory


class AcceptsInvalidDocument(ReferenceEHR):
    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        try:
            self.parse_document(document)
        except Exception:  # noqa: BLE001 - not even readable: keep the reference's answer
            return super().validate_document(document)
        return []  # BUG: no validation at all


create = mutant_factory(AcceptsInvalidDocument, "accepts_invalid_document")
