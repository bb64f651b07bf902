"""Terminology rules on coded values: bindings (required / extensible / preferred), codes unknown to a
code system we ship, and `memberOf` for FHIRPath and slice discriminators.

Offline: value sets come from the loaded packages; one that cannot be expanded here (SNOMED CT
filters, an unloaded value set) is reported as such, never passed silently.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.fhir.structure import MAX_VALUE_SET_PURPOSE
from conformance.fhir.terminology import NotExpandable
from conformance.fhir.ucum import SYSTEM as UCUM_SYSTEM
from conformance.fhir.values import as_list, hashable, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue

_SEVERITY = {"required": "error", "extensible": "warning", "preferred": "information"}


#: the purposes of an additional binding that say something of a single instance, as the binding strength
#: they check like (`maximum`: no code outside the value set; `current`: what new data should use)
_PURPOSE_STRENGTH = {"required": "required", "maximum": "required", "extensible": "extensible",
                     "current": "extensible", "preferred": "preferred", MAX_VALUE_SET_PURPOSE: "required"}


def check_binding(run: RunContext, val: Any, elem: Elem, tcode: str, loc: str, sink: list[ValidationIssue]) -> None:
    """The codes of `val` against `elem`'s binding, with the severity the binding strength gives; then against
    its additional bindings (R5 `binding.additional`), each with the strength its purpose stands for."""
    strength, vs_url = elem.binding  # type: ignore[misc]
    _check_binding(run, val, elem, tcode, loc, sink, strength, vs_url, False)
    for purpose, vs in elem.additional_bindings:
        if purpose in _PURPOSE_STRENGTH:
            _check_binding(run, val, elem, tcode, loc, sink, _PURPOSE_STRENGTH[purpose], vs, True,
                           purpose == MAX_VALUE_SET_PURPOSE)


def _check_binding(run: RunContext, val: Any, elem: Elem, tcode: str, loc: str, sink: list[ValidationIssue],
                   strength: str, vs_url: str | None, additional: bool, purpose_max: bool = False) -> None:
    if strength not in _SEVERITY or not vs_url:
        return
    codes: list[tuple[str | None, str]] = []
    if tcode in ("code", "string", "uri"):
        if isinstance(val, str):
            codes = [(None, val)]
    elif tcode == "Coding":
        if isinstance(val.get("code"), str):
            codes = [(val.get("system"), val["code"])]
    elif tcode == "CodeableConcept":
        for c in as_list(val.get("coding")):
            if isinstance(c, dict) and isinstance(c.get("code"), str):
                codes.append((c.get("system"), c["code"]))
    elif tcode == "Quantity":
        if isinstance(val.get("code"), str):
            codes = [(val.get("system"), val["code"])]
        else:
            return
    vs_name = vs_url.partition("|")[0]
    if not codes:
        if strength == "required" and tcode == "CodeableConcept" and not additional:
            sink.append(issue("error", "code-invalid", loc, f"No code provided, and a code is required from the "
                              f"value set {vs_name}", elem.id, elem.sd_url))
        return
    exp = run.v.terminology.expand(vs_url)
    grammar = run.v.terminology.grammar_system(vs_url) if isinstance(exp, NotExpandable) else None
    if grammar is not None:
        _check_grammar(run, codes, grammar, elem, loc, sink, strength, vs_name)
        return
    if isinstance(exp, NotExpandable):
        if purpose_max:
            return  # an unexpandable maximum value set adds nothing to what the binding itself says
        if run.v.defs.get(vs_url) is None and strength == "required":
            sink.append(issue("warning", "not-found", loc, f"ValueSet {vs_name} is not in the loaded packages, so "
                              "the required binding was not checked", elem.id, elem.sd_url))
        elif strength in ("required", "extensible"):
            sink.append(issue("information", "informational", loc, f"{strength} binding to {vs_name} not "
                              f"checked offline: {exp.reason}", "terminology.not-checked-offline", elem.sd_url))
        return
    for system, code in codes:
        if (isinstance(system, str) and (system, code) in exp.codes) if system is not None \
                else code in exp.bare_codes:
            return
    shown = ", ".join(f"{s}#{c}" if s else c for s, c in codes)
    which = f"value set {vs_name} of an additional binding ({strength})" if additional \
        else f"{strength} value set {vs_name}"
    sink.append(issue(_SEVERITY[strength], "code-invalid", loc, f"the code {shown} is not in the {which}"
                      + (" (hint: the code must come from this value set)" if strength == "required" else ""),
                      elem.id, elem.sd_url))


#: elements whose definition allows short names beside the media types of their value set ("xml | json | ttl |
#: mime type"), as the reference validator accepts them
_FORMAT_SHORTHANDS = {"CapabilityStatement.format": frozenset({"xml", "json", "ttl"}),
                      "TerminologyCapabilities.format": frozenset({"xml", "json", "ttl"})}


def _check_grammar(run: RunContext, codes: list[tuple[str | None, str]], system: str, elem: Elem, loc: str,
                   sink: list[ValidationIssue], strength: str, vs_name: str) -> None:
    """Membership in a value set that is all of a grammar system (`Terminology.grammar_system`): some code of that
    system (a bare `code` is taken as one) that the grammar accepts. A Coding of that system with a bad code was
    reported at its code already (`check_codes_known`), so only bare codes are reported here."""
    first = None  # why the first bare code is not in the value set
    codes = [(s, c) for s, c in codes if c]  # an empty code is reported as an empty value
    if not codes or (elem.path in _FORMAT_SHORTHANDS and {c for _, c in codes} <= _FORMAT_SHORTHANDS[elem.path]):
        return
    for s, code in codes:
        if s is None or s == system:
            problem = run.v.terminology.check_code(system, code)
            if problem is None:
                return
            if s is None and first is None:
                first = f"the code {code} is not in the {strength} value set {vs_name}: {problem}"
    if first or not any(s == system for s, _ in codes):
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in codes)
        sink.append(issue(_SEVERITY[strength], "code-invalid", loc, first or
                          f"the code {shown} is not in the {strength} value set {vs_name} (all of {system})",
                          elem.id, elem.sd_url))


def check_codes_known(run: RunContext, val: dict[str, Any], tcode: str, loc: str,
                      sink: list[ValidationIssue], elem: Elem | None = None) -> bool:
    """Each Coding whose system we ship must use a code of that system, and a display it knows (or one the
    value set bound to `elem` gives the code). True when a code is already wrong -- unknown to its system, or
    empty (reported as an empty value) -- so the binding check would only repeat that cause."""
    wrong_code = False
    codings = [val] if tcode == "Coding" else [c for c in as_list(val.get("coding")) if isinstance(c, dict)]
    memo = run.v.terminology.coding_memo  # (system, code, display) -> (system problem, unknown code, wrong display)
    for i, c in enumerate(codings):
        code, system = c.get("code"), c.get("system")
        if isinstance(system, str) and system and ":" not in system:
            where = loc if tcode == "Coding" else f"{loc}.coding[{i}]"
            sink.append(issue("error", "invalid", f"{where}.system", "Coding.system must be an absolute reference, not "
                              f"a local reference ({system!r}; hint: use the code system's canonical URL)",
                              "terminology.system-absolute"))
            continue
        if code == "":
            wrong_code = True  # reported where it is, as an empty value
            continue
        if system is None and "_system" not in c and isinstance(code, str):
            # as the reference validator: a code without its system means nothing and cannot be checked
            sink.append(issue("warning", "invalid", loc if tcode == "Coding" else f"{loc}.coding[{i}]",
                              ("A code" if tcode == "Coding" else "Coding has no system. A code") + " with no system "
                              "has no defined meaning, and it cannot be validated. A system should be provided "
                              f"(hint: give the system {code!r} comes from)", "terminology.no-system"))
            continue
        if isinstance(code, str) and isinstance(system, str):
            display = c.get("display")
            key = (system, code, display if isinstance(display, str) else None)
            found = memo.get(key)
            if found is None:
                bad_system = run.v.terminology.check_system(system)
                problem = None if bad_system else run.v.terminology.check_code(system, code)
                wrong = None if bad_system or problem or key[2] is None else \
                    run.v.terminology.check_display(system, code, key[2])
                found = memo[key] = (bad_system, problem, wrong)
            if found == (None, None, None):
                continue
            bad_system, problem, wrong = found
            where = loc if tcode == "Coding" else f"{loc}.coding[{i}]"
            if bad_system:
                message, at = bad_system
                sink.append(issue("error", "code-invalid", f"{where}.{at}" if at else where, message,
                                  "terminology.system" if at else "terminology.system-valueset"))
                wrong_code = True
                continue
            if problem:  # located at the code, as the reference validator does (the display at the display)
                sink.append(issue("error", "code-invalid", f"{where}.code", problem, "terminology.unknown-code"))
                wrong_code = True
                continue
            if _bound_display(run, elem, system, code, key[2]):
                continue
            sink.append(issue(run.settings.display_severity, "invalid", f"{where}.display", wrong,
                              "terminology.display"))
    return wrong_code


def _bound_display(run: RunContext, elem: Elem | None, system: str, code: str, display: str | None) -> bool:
    """Does the value set bound to `elem` give `display` to system#code (case and runs of white space aside)?"""
    if elem is None or elem.binding is None or elem.binding[0] not in _SEVERITY or not elem.binding[1] \
            or display is None:
        return False
    norm = " ".join(display.split()).lower()
    return any(" ".join(d.split()).lower() == norm
               for d in run.v.terminology.value_set_displays(elem.binding[1], system, code))


def member_of(run: RunContext, value: Any, vs: str) -> bool | None:
    """Is the code / Coding / CodeableConcept in value set `vs`? None when it cannot be told offline."""
    exp = run.v.terminology.expand(vs)
    if isinstance(exp, NotExpandable):
        return None
    if isinstance(value, str):
        return value in exp.bare_codes
    if isinstance(value, dict):
        codings = as_list(value.get("coding")) if "coding" in value else [value]
        for c in codings:
            if isinstance(c, dict) and hashable(c.get("system")) and hashable(c.get("code")) \
                    and (c.get("system"), c.get("code")) in exp.codes:
                return True
        return False
    return None


_OTHER_VERSION_EXTENSION = re.compile(r"http://hl7\.org/fhir/\d+\.\d+/StructureDefinition/extension-")


def check_code_given(ext: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """A `code` under a required binding present with extensions only (data-absent-reason...) has no code to check
    against the value set, and a required binding leaves no room for "no code": the reference validator's "No
    code provided, and a code is required from the value set". A cross-version extension
    (`http://hl7.org/fhir/5.0/StructureDefinition/extension-<path>`) carries another FHIR version's code in its
    place: that is a value, so no error."""
    if elem.binding is None or elem.binding[0] != "required":
        return
    extensions = ext.get("extension") if isinstance(ext, dict) else None
    if isinstance(extensions, list) and any(isinstance(e, dict) and isinstance(e.get("url"), str)
                                            and _OTHER_VERSION_EXTENSION.match(e["url"]) for e in extensions):
        return
    sink.append(issue("error", "code-invalid", loc, "No code provided, and a code is required from the value set "
                      f"{elem.binding[1]} (hint: give a code from that value set; an extension does not stand in for "
                      "a code under a required binding)", elem.id, elem.sd_url))


def check_quantity_unit(run: RunContext, val: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> bool:
    """A Quantity's `code` in the UCUM system must be a UCUM expression (`mm[Hg]`, not `mmHg`), reported at the
    code as an unknown code, as the reference validator does. True when it is not (the binding check would
    only repeat it)."""
    code, system = val.get("code"), val.get("system")
    if not isinstance(code, str) or not code or not isinstance(system, str):
        return False
    if code != code.strip():
        return True  # reported as a malformed code value already
    problem = run.v.terminology.check_code(system, code) if system == UCUM_SYSTEM else None
    if problem:
        sink.append(issue("error", "code-invalid", f"{loc}.code", problem, "terminology.unknown-code"))
    return problem is not None
