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
