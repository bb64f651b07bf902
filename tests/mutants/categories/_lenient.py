"""A reference EHR whose validation tolerates one class of issue (the bug of each mutant)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.adapters.reference import intake
from conformance.adapters.reference.service import ReferenceEHR
from conformance.issues import ValidationIssue


def lenient(tolerated: Callable[[ValidationIssue], bool], *, also_structural: bool = False) -> type[ReferenceEHR]:
    """ReferenceEHR that drops the profile-validation issues `tolerated` selects (and the intake's
    own issues of that class when `also_structural`)."""

    class Lenient(ReferenceEHR):
        def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
            if not isinstance(document, Mapping):
                return super().validate_document(document)
            bundle = dict(document)
            structural = intake.structural_issues(bundle)
            if also_structural:
                structural = [i for i in structural if not tolerated(i)]
            if any(i.is_error for i in structural):
                return structural
            # BUG: this class of profile issue is not treated as an error
            return structural + [i for i in self._fhir_validation(bundle) if not tolerated(i)]

    return Lenient
