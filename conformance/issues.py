"""The one shape every validator reports in (FHIR and CDA alike).

Shaped after FHIR's OperationOutcome.issue so that reports, the CLI and the
checks treat a StructureDefinition finding and a Schematron finding the same way.
Validators yield these; callers decide what a verdict is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal

Severity = Literal["fatal", "error", "warning", "information"]

SEVERITY_ORDER: dict[str, int] = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One finding of a validator.

    location: FHIRPath-style for FHIR (``Bundle.entry[3].resource.code.coding[0]``),
    XPath with indices for XML (``/ClinicalDocument/component[1]/...``).
    rule: what produced it: an invariant key (``ele-1``), an element id
    (``Patient.identifier:INS``), a Schematron assert id, or one of our own rule names.
    """

    severity: Severity
    code: str
    location: str
    message: str
    rule: str
    source: str = ""  # e.g. the profile canonical URL or schema file that owns the rule
    line: int = 0  # 1-based position in the input document when known (0: unknown)
    column: int = 0

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != "" and not (k in ("line", "column") and not v)}

    def to_operation_outcome_issue(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.message,
            "expression": [self.location] if self.location else [],
        }
        issue["extension"] = [
            {"url": "https://ehds-conformance.invalid/fhir/StructureDefinition/issue-rule", "valueString": self.rule}
        ]
        if self.line:
            issue["extension"] += [
                {"url": "https://ehds-conformance.invalid/fhir/StructureDefinition/issue-line", "valueInteger": self.line},
                {"url": "https://ehds-conformance.invalid/fhir/StructureDefinition/issue-col", "valueInteger": self.column}]
        return issue


def has_errors(issues: Iterable[ValidationIssue]) -> bool:
    return any(i.is_error for i in issues)


def operation_outcome(issues: Iterable[ValidationIssue]) -> dict[str, Any]:
    """Render issues as a FHIR R4 OperationOutcome (an empty outcome gets the 'all OK' issue)."""
    rendered = [i.to_operation_outcome_issue() for i in issues]
    if not rendered:
        rendered = [{"severity": "information", "code": "informational", "diagnostics": "No issues found"}]
    return {"resourceType": "OperationOutcome", "issue": rendered}
