"""Consistency rules of knowledge and definitional resources that can be checked offline, as the reference
validator checks them: a MeasureReport against its report type and its Measure (when the Measure is at
hand), a Measure's CQL stratifier criteria against its libraries, a composite SearchParameter's components, the enableWhen targets of a Questionnaire, the authoring
rules of a StructureDefinition (`sd_rules`), of a CodeSystem and a ValueSet (`terminology_rules`), an OperationDefinition against its parameter
profiles (`opdef_rules`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.opdef_rules import check_operation_definition
from conformance.fhir.questionnaire import check_questionnaire
from conformance.fhir.sd_rules import check_structure_definition
from conformance.fhir.terminology_rules import check_code_system, check_value_set
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

#: the resource types `check_definitional` has rules for (the walker calls it for these only)
DEFINITIONAL_TYPES = frozenset({"MeasureReport", "Measure", "SearchParameter", "Questionnaire", "StructureDefinition",
                                "CodeSystem", "ValueSet", "OperationDefinition"})


def check_definitional(run: RunContext, res: dict[str, Any], rt: str, loc: str, sink: list[ValidationIssue]) -> None:
    if rt == "Questionnaire":
        check_questionnaire(res, loc, sink)
    elif rt == "StructureDefinition":
        check_structure_definition(run, res, loc, sink)
    elif rt == "OperationDefinition":
        check_operation_definition(run, res, loc, sink)
    elif rt == "CodeSystem":
        check_code_system(res, loc, sink)
    elif rt == "ValueSet":
        check_value_set(run, res, loc, sink)
    elif rt == "MeasureReport":
        _measure_report(run, res, loc, sink)
    elif rt == "Measure":
        _measure(run, res, loc, sink)
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


def _measure(run: RunContext, measure: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """A stratifier's CQL criteria name a definition of one of the Measure's libraries (`Library.Name`, or just
    `Name` with a single library), which must be loaded with its ELM and define it, as the reference validator
    checks them."""
    libraries = [lib for lib in (run.v.defs.get(u) for u in as_list(measure.get("library")) if isinstance(u, str))
                 if isinstance(lib, dict) and lib.get("resourceType") == "Library"]
    for g, group in enumerate(as_list(measure.get("group"))):
        for s, strat in enumerate(as_list(group.get("stratifier") if isinstance(group, dict) else None)):
            if not isinstance(strat, dict):
                continue
            sloc = f"{loc}.group[{g}].stratifier[{s}]"
            _cql_criteria(strat.get("criteria"), libraries, f"{sloc}.criteria", sink)
            for c, comp in enumerate(as_list(strat.get("component"))):
                if isinstance(comp, dict):
                    _cql_criteria(comp.get("criteria"), libraries, f"{sloc}.component[{c}].criteria", sink)


def _cql_criteria(crit: Any, libraries: list[dict[str, Any]], cloc: str, sink: list[ValidationIssue]) -> None:
    if not isinstance(crit, dict) or crit.get("language") not in ("text/cql", "text/cql.identifier") \
            or not isinstance(crit.get("expression"), str):
        return
    ref = crit["expression"]

    def error(message: str) -> None:
        sink.append(issue("error", "invalid", cloc, message, "measure.criteria"))

    if not libraries:
        error("A CQL criteria needs a library, and the Measure has no library that could be found")
        return
    if "." in ref:
        name, _, ref = ref.partition(".")
        found = [lib for lib in libraries if lib.get("name") == name]
        if not found:
            error(f"There is no library named {name} among the Measure's libraries")
            return
        if len(found) > 1:
            error(f"More than one of the Measure's libraries is named {name}")
            return
        lib = found[0]
    elif len(libraries) != 1:
        error("A CQL criteria without a library name needs the Measure to have exactly one library")
        return
    else:
        lib = libraries[0]
    elm = _elm(lib)
    if elm is None:
        error(f"The library {lib.get('url')} has no ELM (application/elm+xml) content, so the criteria cannot be "
              "checked")
    elif isinstance(elm, str):
        error(f"The ELM of the library {lib.get('url')} cannot be read: {elm}")
    elif ref not in elm:
        error(f"The function {ref} does not exist in the library {lib.get('url')}")


def _elm(lib: dict[str, Any]) -> frozenset[str] | str | None:
    """The names a library's ELM defines (its statements), an error message, or None without ELM content."""
    import base64
    import binascii

    from lxml import etree

    for content in as_list(lib.get("content")):
        if not isinstance(content, dict) or content.get("contentType") != "application/elm+xml" \
                or not isinstance(content.get("data"), str):
            continue
        try:
            root = etree.fromstring(base64.b64decode(content["data"]), etree.XMLParser(
                resolve_entities=False, no_network=True))
        except (binascii.Error, ValueError, etree.XMLSyntaxError) as exc:
            return str(exc)
        if root.tag != "{urn:hl7-org:elm:r1}library":
            return "it is not an ELM library (urn:hl7-org:elm:r1)"
        return frozenset(d.get("name") for d in root.findall("{urn:hl7-org:elm:r1}statements/{urn:hl7-org:elm:r1}def"))
    return None


def _measure_report(run: RunContext, mr: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    subject_list = mr.get("type") == "subject-list"
    measure = run.v.defs.get(mr["measure"]) if isinstance(mr.get("measure"), str) else None
    scoring = None
    if isinstance(measure, dict) and measure.get("resourceType") == "Measure":
        scoring = next((c.get("code") for c in as_list((measure.get("scoring") or {}).get("coding"))
                        if isinstance(c, dict)), None)
    if isinstance(measure, dict) and measure.get("resourceType") == "Measure":
        _report_groups(mr, measure, loc, sink)
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


def _codings(cc: Any) -> set[tuple[Any, Any]]:
    return {(c.get("system"), c.get("code")) for c in as_list(cc.get("coding") if isinstance(cc, dict) else None)
            if isinstance(c, dict)}


def _for_code(cc: Any, items: list[Any], *, by_text: bool = False) -> Any:
    """The first definition (a Measure group, population or stratifier) one of whose codings `cc` has."""
    mine = _codings(cc)
    for t in items:
        code = t.get("code") if isinstance(t, dict) else None
        if not isinstance(code, dict):
            continue
        if _codings(code) & mine:
            return t
        if by_text and not mine and not _codings(code) and isinstance(cc, dict) and cc.get("text") \
                and cc.get("text") == code.get("text"):
            return t
    return None


def _shown(cc: Any) -> str:
    codings = sorted(f"{s}#{c}" if s else str(c) for s, c in _codings(cc) if c)
    return ", ".join(codings) or (cc.get("text", "") if isinstance(cc, dict) else "")


def _report_groups(mr: dict[str, Any], measure: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """The report's groups, populations and stratifiers against the Measure's, matched by code: each one the
    report has must be defined by the Measure, once, and each one the Measure defines must be reported (the
    reference validator's MeasureReport rules). A single group on both sides may be anonymous."""
    mgroups = [g for g in as_list(measure.get("group")) if isinstance(g, dict)]
    groups = [(i, g) for i, g in enumerate(as_list(mr.get("group"))) if isinstance(g, dict)]
    if not mgroups:
        return
    if len(groups) == 1 and len(mgroups) == 1:
        i, g = groups[0]
        if "code" in mgroups[0] and "code" in g:
            if not any(s and c for s, c in _codings(g["code"])):
                sink.append(issue("error", "business-rule", f"{loc}.group[{i}]", "The group has no usable code (a "
                                  "coding with a system and a code)", "measurereport.group"))
            elif not _codings(g["code"]) & _codings(mgroups[0]["code"]):
                sink.append(issue("error", "business-rule", f"{loc}.group[{i}]", f"The code of the group "
                                  f"({_shown(g['code'])}) does not match the code of the Measure's group "
                                  f"({_shown(mgroups[0]['code'])})", "measurereport.group"))
        _report_group(mgroups[0], g, f"{loc}.group[{i}]", sink)
        return
    seen: list[int] = []
    for i, g in groups:
        gloc = f"{loc}.group[{i}]"
        if "code" not in g:
            sink.append(issue("error", "business-rule", gloc, "The Measure has several groups, so each group of the "
                              "report needs a code to say which it is", "measurereport.group"))
            continue
        mg = _for_code(g["code"], mgroups)
        if mg is None:
            sink.append(issue("error", "business-rule", gloc, f"The code {_shown(g['code'])} of the group is not one "
                              "of the Measure's groups", "measurereport.group"))
        elif id(mg) in seen:
            sink.append(issue("error", "business-rule", gloc, f"The group {_shown(g['code'])} is reported twice",
                              "measurereport.group"))
        else:
            seen.append(id(mg))
            _report_group(mg, g, gloc, sink)
    if mr.get("type") != "data-collection":
        for mg in mgroups:
            if id(mg) not in seen:
                sink.append(issue("error", "business-rule", loc, f"The MeasureReport does not include a group for the "
                                  f"group with code '{_shown(mg.get('code'))}'", "measurereport.group"))


def _report_group(mg: dict[str, Any], g: dict[str, Any], gloc: str, sink: list[ValidationIssue]) -> None:
    for kind, observation in (("population", "measure-observation"), ("stratifier", None)):
        defined = [x for x in as_list(mg.get(kind)) if isinstance(x, dict)]
        seen: list[int] = []
        for i, x in enumerate(as_list(g.get(kind))):
            if not isinstance(x, dict):
                continue
            xloc = f"{gloc}.{kind}[{i}]"
            if isinstance(x.get("code"), list):  # MeasureReport.group.stratifier.code repeats: the first one names it
                x = {**x, "code": x["code"][0]} if x["code"] else {k: v for k, v in x.items() if k != "code"}
            if "code" not in x:
                sink.append(issue("error", "business-rule", xloc, f"Group should have a code that matches the group "
                                  f"{kind} definition in the measure", f"measurereport.{kind}"))
                continue
            m = _for_code(x["code"], defined, by_text=kind == "stratifier")
            if m is None:
                sink.append(issue("error", "business-rule", xloc, f"The code {_shown(x['code'])} of the {kind} is not "
                                  f"one the Measure's group defines", f"measurereport.{kind}"))
            elif id(m) in seen:
                sink.append(issue("error", "business-rule", xloc, f"The {kind} {_shown(x['code'])} is reported twice",
                                  f"measurereport.{kind}"))
            else:
                seen.append(id(m))
        for m in defined:
            if id(m) in seen or (observation and ("http://terminology.hl7.org/CodeSystem/measure-population",
                                                  observation) in _codings(m.get("code"))):
                continue
            sink.append(issue("error", "business-rule", gloc, f"The MeasureReport does not include a {kind} for the "
                              f"{kind} with code '{_shown(m.get('code'))}'"
                              + (f" (id = '{m['id']}')" if isinstance(m.get("id"), str) else ""),
                              f"measurereport.{kind}"))


def _subjects(run: RunContext, ref: Any) -> int | None:
    """How many subjects a population's subjectResults names: a List's entries, or the one it points to."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(target, str):
        return None
    hit = run._resolve(target)
    if hit is not None and hit[0].get("resourceType") == "List":
        return len(as_list(hit[0].get("entry")))
    return 1
