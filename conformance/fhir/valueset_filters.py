"""A value set's filters (`ValueSet.compose.include.filter`) against what their code system says of its properties,
as the reference validator checks them offline (its ValueSet validator and code system checkers):

- the property is one the code system knows: one every code system has (concept, code, status, inactive,
  notSelectable, ...), one of its `property` or `filter` codes, or parent/child/partOf when it has a hierarchy --
  a warning otherwise, since a terminology server may not understand it;
- the operation is one the code system's `filter` declares for that property, or one every code system supports
  on `concept` and `code` (is-a, descendent-of, =, in, ...);
- the value fits the property's type: true/false for a boolean, a date(time), a decimal, an integer, a code of
  the system (for `concept`, `code`, `parent`, `child`, and -- as a warning -- a property of type code), or
  `system#code` naming a known code for a property of type Coding. `in` and `not-in` take a comma-separated list,
  `exists` a boolean.

Codes are checked where that can be done offline (`Terminology.check_code`: a complete local code system, UCUM,
SNOMED CT and LOINC check digits); a code of a system we do not have is not judged. Properties of code systems
we do not have are only checked when every code system has them: SNOMED CT and LOINC define their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.fhir.primitives import REGEX, check_primitive, has_scheme
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

#: the operations every code system supports on `concept` and on `code` (R4's filter-operator codes)
_CONCEPT_OPS = frozenset({"=", "in", "is-a", "descendent-of", "is-not-a", "generalizes", "not-in"})
_CODE_OPS = _CONCEPT_OPS | {"regex"}
#: properties every code system has: name -> (value type, whether a code must be a code of the system)
_COMMON: dict[str, tuple[str | None, str | None]] = {
    "concept": ("code", "error"), "code": ("code", "error"), "status": ("code", None), "inactive": ("boolean", None),
    "effectiveDate": ("dateTime", None), "deprecationDate": ("dateTime", None), "retirementDate": ("dateTime", None),
    "notSelectable": ("boolean", None), "synonym": ("code", None), "comment": (None, None),
    "itemWeight": ("decimal", None)}
_HIERARCHY: dict[str, tuple[str | None, str | None]] = {"parent": ("code", "error"), "child": ("code", "error"),
                                                        "partOf": ("code", "error")}
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: property type -> (is a filter value of it valid, what it must be)
_NUMERIC: dict[str, tuple[Callable[[str], bool], str]] = {
    "dateTime": (lambda v: check_primitive("dateTime", v) is None, "a valid date(/time)"),
    "decimal": (lambda v: REGEX["decimal"].fullmatch(v) is not None, "a valid decimal value"),
    "integer": (lambda v: _INTEGER.fullmatch(v) is not None, "a valid integer value")}
_COMPARATOR = re.compile(r"(eq|ne|gt|lt|ge|le|sa|eb|ap)")


class _Rules:
    """What a filter on one property may say: its operations (empty: any), the type of its value, and how a code
    value is judged (`error`, `warning`, None: not looked up)."""

    def __init__(self, ops: frozenset[str], kind: str | None, code_rule: str | None) -> None:
        self.ops, self.kind, self.code_rule = ops, kind, code_rule


def check_filters(run: RunContext, include: dict[str, Any], iloc: str, sink: list[ValidationIssue]) -> None:
    """Each filter of one include/exclude, against the code system it names."""
    system = include.get("system")
    if not isinstance(system, str) or not system:
        return
    cs = run.v.defs.get(system)
    if cs is not None and (cs.get("resourceType") != "CodeSystem" or cs.get("content") in ("supplement", "not-present")):
        cs = None  # a stub for SNOMED CT, LOINC...: those define their own properties, which it does not list
    for j, f in enumerate(as_list(include.get("filter"))):
        prop, op, value = (f.get(k) for k in ("property", "op", "value")) if isinstance(f, dict) else (None,) * 3
        if not isinstance(prop, str) or not isinstance(value, str):
            continue  # the structure says what is missing
        floc = f"{iloc}.filter[{j}]"
        rules = _rules_for(cs, system, prop, floc, sink)
        if rules is None:
            continue
        if rules.ops and isinstance(op, str) and op not in rules.ops:
            sink.append(issue("error", "invalid", floc, f"The operation '{op}' is not allowed for property '{prop}' "
                              f"in system '{system}'. Allowed ops: {','.join(sorted(rules.ops))}",
                              "valueset.filter-op"))
        if op == "exists":
            _check_value(run, system, prop, value, _Rules(frozenset(), "boolean", None), floc, sink)
        elif op in ("in", "not-in"):
            for part in value.split(","):
                _check_value(run, system, prop, part, rules, floc, sink)
        elif op != "regex":
            _check_value(run, system, prop, value, rules, floc, sink)


def _rules_for(cs: dict[str, Any] | None, system: str, prop: str, floc: str,
               sink: list[ValidationIssue]) -> _Rules | None:
    """The rules for filters on `prop` of `system`, or None when nothing is known of it (and, for a code system
    we have, the warning that it does not know the property)."""
    if cs is None:  # operations not checked: SNOMED CT, LOINC... each support their own
        common = _COMMON.get(prop)
        return None if common is None else _Rules(frozenset(), *common)
    declared = {p.get("code"): p.get("type") for p in as_list(cs.get("property")) if isinstance(p, dict)}
    filter_ops = {f.get("code"): [o for o in as_list(f.get("operator")) if isinstance(o, str)]
                  for f in as_list(cs.get("filter")) if isinstance(f, dict)}
    known = dict(_COMMON) | (_HIERARCHY if cs.get("hierarchyMeaning") else {})
    if prop not in known and prop not in declared and prop not in filter_ops:
        names = list(known) + [n for n in list(filter_ops) + list(declared) if isinstance(n, str) and n not in known]
        sink.append(issue("warning", "invalid", floc, f"The property '{prop}' is not known for the system '{system}', "
                          "so may not be understood by the terminology ecosystem. Known properties for this system: "
                          f"{','.join(names)}", "valueset.filter-property"))
        return None
    ops = frozenset(filter_ops.get(prop, ()))
    kind = declared.get(prop)
    if kind is not None:
        if kind == "string":
            return None
        if kind == "code":  # "a code of the system", though many use it for a list of values defined nowhere
            return _Rules(ops, "code", "warning")
        return _Rules(ops, kind, None)
    common = known.get(prop)
    if common is None:
        return _Rules(ops, None, None)
    return _Rules(ops | (_CONCEPT_OPS if prop == "concept" else _CODE_OPS if prop == "code" else frozenset()),
                  *common)


def _check_value(run: RunContext, system: str, prop: str, value: str, rules: _Rules, floc: str,
                 sink: list[ValidationIssue]) -> None:
    def bad(message: str, severity: str = "error") -> None:
        sink.append(issue(severity, "invalid", floc, f"The value for a filter based on property '{prop}' {message}",
                          "valueset.filter-value"))

    kind = rules.kind
    if kind in _NUMERIC:
        m = _COMPARATOR.match(value)
        bare = value[m.end():] if m else value
        ok, what = _NUMERIC[kind]
        if not ok(bare):
            bad(f"must be {what}, not '{value}'")
    elif kind == "boolean":
        if value not in ("true", "false"):
            bad(f"must be either 'true' or 'false', not '{value}'")
    elif kind == "code":
        if value.strip() != value:
            bad(f"must be a valid code, not '{value}'")
        elif rules.code_rule is not None:
            problem = run.v.terminology.check_code(system, value)
            if problem:
                bad(f"must be a valid code from the system '{system}', and '{value}' is not ({problem})",
                    rules.code_rule)
    elif kind == "Coding":
        coded_system, hash_, code = value.partition("#")
        coded_system = coded_system.partition("|")[0]
        if not hash_ or not code or not has_scheme(coded_system):
            bad(f"must be in the format system(|version)#code, not '{value}'")
            return
        problem = run.v.terminology.check_code(coded_system, code)
        if problem:
            bad(f"is '{value}' which is not a valid code ({problem})")
