"""Authoring rules of CodeSystem and ValueSet resources that can be checked offline, as the reference validator
checks them (its CodeSystem and ValueSet validators): what a code system's `content` promises about its
concepts, and the systems and filters a value set's compose names (the filters: `valueset_filters`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.primitives import has_scheme
from conformance.fhir.values import as_list, issue
from conformance.fhir.valueset_filters import check_filters

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

def check_code_system(cs: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    content, concepts = cs.get("content"), as_list(cs.get("concept"))
    if content == "not-present" and concepts:
        sink.append(issue("error", "business-rule", f"{loc}.concept[0]", "The code system says it has no content "
                          "present, but concepts are found (hint: set content to the part present -- example, "
                          "fragment, complete -- or remove the concepts)", "codesystem.content"))
    if isinstance(cs.get("supplements"), str) and content != "supplement":
        sink.append(issue("error", "business-rule", f"{loc}.content", "CodeSystem Supplements SHALL have a content "
                          f"value of 'supplement', not {content!r} (it supplements {cs['supplements']})",
                          "codesystem.supplement-content"))


def check_value_set(run: RunContext, vs: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    compose = vs.get("compose")
    if not isinstance(compose, dict):
        return
    for part in ("include", "exclude"):
        for i, inc in enumerate(as_list(compose.get(part))):
            if not isinstance(inc, dict):
                continue
            iloc = f"{loc}.compose.{part}[{i}]"
            system = inc.get("system")
            if isinstance(system, str) and system and not has_scheme(system):
                sink.append(issue("error", "invalid", iloc, f"URI values in ValueSet.compose.{part}.system must be "
                                  f"absolute, not {system!r} (hint: to reference a contained code system, use the "
                                  "full CodeSystem URL and reference it with the http://hl7.org/fhir/"
                                  "StructureDefinition/valueset-system extension)", "valueset.system-absolute"))
            check_filters(run, inc, iloc, sink)
