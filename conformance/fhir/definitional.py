"""Consistency rules of knowledge and definitional resources that can be checked offline, as the reference
validator checks them: a MeasureReport against its report type and its Measure (when the Measure is at
hand), a composite SearchParameter's components, the enableWhen targets of a Questionnaire, the authoring
rules of a StructureDefinition (`sd_rules`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.questionnaire import check_questionnaire
from conformance.fhir.sd_rules import check_structure_definition
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

#: the resource types `check_definitional` has rules for (the walker calls it for these only)
DEFINITIONAL_TYPES = frozenset({"MeasureReport", "SearchParameter", "Questionnaire", "StructureDefinition"})


def check_definitional(run: RunContext, res: dict[str, Any], rt: str, loc: str, sink: list[ValidationIssue]) -> None:
    if rt == "Questionnaire":
        check_questionnaire(res, loc, sink)
    elif rt == "StructureDefinition":
        check_structure_definition(run, res, loc, sink)
    elif rt == "MeasureReport":
        _measure_report(run, res, loc, sink)
    elif rt == "SearchParameter":
        if res.get("type") == "composite" and len(as_list(res.get("component"))) < 2:
            sink.append(issue("error", "invariant", loc, "When the SearchParameter has a type of 'composite', then the "
                              "SearchParameter must define two or more components", "searchparameter.composite"))
        _search_parameter(run, res, loc, sink)


def _search_parameter(run: RunContext, sp: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """The expression starts each of its paths from one of the bases; a parameter derived from another keeps its
    bases and its type (when that one is at hand)."""
    bases = [b for b in as_list(sp.get("base")) if isinstance(b, str)]
    expression = sp.get("expression")
    if isinstance(expression, str) and bases and not {"Resource", "DomainResource"} & set(bases):
        types = run.v.resource_types()
        for term in _union_terms(expression):
            head = term.lstrip("( ").split(".", 1)[0].split(" ", 1)[0]
            if head in types and head not in bases and head not in ("Resource", "DomainResource"):
                sink.append(issue("error", "invalid", f"{loc}.expression", f"Error in search expression "
                                  f"'{expression}': the name '{head}' is not valid for any of the possible types: "
                                  f"{', '.join(bases)} (hint: each path starts from a base of the parameter)",
                                  "searchparameter.expression"))
                break
    master_url = sp.get("derivedFrom")
    master = run.v.defs.get(master_url) if isinstance(master_url, str) else None
    if not isinstance(master, dict) or master.get("resourceType") != "SearchParameter":
        return
    master_bases = set(as_list(master.get("base")))
    for b in bases:
        if b not in master_bases and "Resource" not in master_bases:
            sink.append(issue("error", "business-rule", loc, f"The resource type {b} is not listed as a base in the "
                              f"SearchParameter this is derived from ({master_url})", "searchparameter.derived"))
    if "type" in sp and master.get("type") != sp.get("type"):
        sink.append(issue("error", "business-rule", loc, f"The type {sp.get('type')} is different to the type "
                          f"{master.get('type')} in the derivedFrom SearchParameter ({master_url})",
                          "searchparameter.derived"))


def _union_terms(expression: str) -> list[str]:
    """The top-level `|` terms of a FHIRPath expression (outside brackets and strings)."""
    terms, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(expression):
        if ch == "'" and (i == 0 or expression[i - 1] != "\\"):
            quote = not quote
        elif not quote:
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == "|" and depth == 0:
                terms.append(expression[start:i].strip())
                start = i + 1
    terms.append(expression[start:].strip())
    return [t for t in terms if t]


def _measure_report(run: RunContext, mr: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    subject_list = mr.get("type") == "subject-list"
    measure = run.v.defs.get(mr["measure"]) if isinstance(mr.get("measure"), str) else None
    scoring = None
    if isinstance(measure, dict) and measure.get("resourceType") == "Measure":
        scoring = next((c.get("code") for c in as_list((measure.get("scoring") or {}).get("coding"))
                        if isinstance(c, dict)), None)
    for g, group in enumerate(as_list(mr.get("group"))):
        if not isinstance(group, dict):
            continue
        gloc = f"{loc}.group[{g}]"
        if scoring == "cohort" and "measureScore" in group:
            sink.append(issue("error", "invalid", f"{gloc}.measureScore", "No measureScore when the scoring of the "
                              "message is 'cohort'", "measurereport.score"))
        for p, pop in enumerate(as_list(group.get("population"))):
            if not isinstance(pop, dict) or "subjectResults" not in pop:
                continue
            ploc = f"{gloc}.population[{p}]"
            if not subject_list:
                sink.append(issue("error", "invalid", ploc, "Reports where type is not 'subject-list' don't have "
                                  "subjects listed", "measurereport.subjects"))
                continue
            count = pop.get("count")
            if isinstance(count, int) and not isinstance(count, bool):
                n = _subjects(run, pop["subjectResults"])
                if n is not None and n != count:
                    sink.append(issue("error", "invalid", ploc, f"Mismatch between count {count} and number of "
                                      f"subjects {n}", "measurereport.count"))


def _subjects(run: RunContext, ref: Any) -> int | None:
    """How many subjects a population's subjectResults names: a List's entries, or the one it points to."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(target, str):
        return None
    hit = run._resolve(target)
    if hit is not None and hit[0].get("resourceType") == "List":
        return len(as_list(hit[0].get("entry")))
    return 1
