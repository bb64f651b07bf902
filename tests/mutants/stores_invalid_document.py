"""stores_invalid_document: an invalid document is rejected with a reason, but what could be
read of it (patient, document) was already written. Breaks EHDS-INT-012 (nothing stored)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.issues import ValidationIssue
from tests.mutants._factory import mutant_factory


class StoresInvalidDocument(ReferenceEHR):
    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        issues = super().validate_document(document)
        if any(i.is_error for i in issues):
            # BUG: filed before the verdict; the rejection that follows does not undo it
            with contextlib.suppress(Exception):  # input too broken to file at all: nothing to keep
                self.persist(self.parse_document(document))
        return issues


create = mutant_factory(StoresInvalidDocument, "stores_invalid_document")
