"""overclaims_imaging: describe() declares imaging among the categories consumed and produced,
but every imaging document is rejected. Breaks EHDS-GEN-001 (declared scope matches what is served);
the per-category imaging checks become inconclusive, not failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.issues import ValidationIssue
from tests.mutants._factory import mutant_factory


class OverclaimsImaging(ReferenceEHR):
    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        issues = super().validate_document(document)
        if any(i.is_error for i in issues):
            return issues
        if self.parse_document(document).category == "imaging":  # BUG: declared, never implemented
            issues.append(ValidationIssue("error", "not-supported", "Bundle.entry[0].resource.type",
                                          "imaging reports are not supported", "scope", "overclaims_imaging"))
        return issues


create = mutant_factory(OverclaimsImaging, "overclaims_imaging")
