"""Authoring rules of a StructureDefinition validated as an instance, as the reference validator applies them.

- **Type profiles**: a `type.profile` must be a profile of that type -- the type its constraint chain
  ends in is the type code, or an abstract type above it (a Count profile is not a Quantity profile:
  Count specialises Quantity); an extension profile must be used as a modifierExtension exactly when it
  defines a modifier. A profile that is not loaded is a warning.
- **Target profiles**: a Reference's `targetProfile` must be a resource profile, a canonical's one of a
  canonical resource, and no other type has target profiles.
- **Snapshot**: a profile given as a differential only must be one a snapshot can be generated from
  (an element path that does not exist in the base is an error on the StructureDefinition).
- **Inherited obligations**: a profile named by `inherit-obligations` must be an obligation profile
  (`obligation-profile` true) on the same base as the profile that inherits from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.context import CORE_SD
from conformance.fhir.snapshot import SnapshotError, generate_snapshot
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

#: R4 canonical resources (a canonical's targetProfile must be one of them, or Resource)
_CANONICAL_R4 = frozenset({
    "ActivityDefinition", "CapabilityStatement", "ChargeItemDefinition", "CodeSystem", "CompartmentDefinition",
    "ConceptMap", "EffectEvidenceSynthesis", "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario",
    "GraphDefinition", "ImplementationGuide", "Library", "Measure", "MessageDefinition", "NamingSystem",
    "OperationDefinition", "PlanDefinition", "Questionnaire", "ResearchDefinition", "ResearchElementDefinition",
    "RiskEvidenceSynthesis", "SearchParameter", "StructureDefinition", "StructureMap", "TerminologyCapabilities",
    "TestScript", "ValueSet", "Resource"})


def check_structure_definition(run: RunContext, sd: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    for part in ("differential", "snapshot"):
        elements = (sd.get(part) or {}).get("element") if isinstance(sd.get(part), dict) else None
        for e, el in enumerate(as_list(elements)):
            if isinstance(el, dict):
                _element_types(run, el, f"{loc}.{part}.element[{e}]", sink)
                if "binding" in el:
                    _binding_relevant(run, sd, el, f"{loc}.{part}.element[{e}]", sink)
                if "slicing" in el and isinstance(el.get("path"), str) and "." not in el["path"]:
                    sink.append(issue("error", "invalid", f"{loc}.{part}.element[{e}]", "Slicing is not allowed at the "
                                      f"root of a profile ({el['path']}; hint: slice an element below the root, such "
                                      "as Extension.extension)", "sd.root-slicing"))
    _snapshot(run, sd, loc, sink)
    _inherited_obligations(run, sd, loc, sink)


def _base_type(run: RunContext, sd: dict[str, Any] | None) -> dict[str, Any] | None:
    """The specialisation a profile's constraint chain ends in (the reference validator's determineBaseType)."""
    seen = 0
    while sd is not None and sd.get("derivation") == "constraint" and seen < 32:
        sd = run.v.defs.get(sd.get("baseDefinition"))
        seen += 1
    return sd


def _is_instance_of(run: RunContext, sd: dict[str, Any] | None, code: str) -> bool:
    """`sd`'s type is `code`, or an abstract (or logical) type above it is."""
    seen = 0
    while sd is not None and seen < 32:
        if sd.get("type") == code or sd.get("url") == code:
            return True
        sd = run.v.defs.get(sd["baseDefinition"]) if isinstance(sd.get("baseDefinition"), str) else None
        if sd is not None and not sd.get("abstract") and sd.get("kind") != "logical":
            return False
        seen += 1
    return False


def _element_types(run: RunContext, el: dict[str, Any], eloc: str, sink: list[ValidationIssue]) -> None:
    path = el.get("path") if isinstance(el.get("path"), str) else ""
    for t, typ in enumerate(as_list(el.get("type"))):
        code = typ.get("code") if isinstance(typ, dict) else None
        if not isinstance(code, str):
            continue
        tloc = f"{eloc}.type[{t}]"
        for p, url in enumerate(as_list(typ.get("profile"))):
            if isinstance(url, str):
                _type_profile(run, url, code, path, f"{tloc}.profile[{p}]", sink)
        for p, url in enumerate(as_list(typ.get("targetProfile"))):
            if isinstance(url, str):
                _target_profile(run, url, code, path, f"{tloc}.targetProfile[{p}]", sink)


#: the types a binding constrains (the reference validator's "can-bind" characteristic), and their specialisations
_BINDABLE = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "CodeableReference", "string", "uri"})


def _binding_relevant(run: RunContext, sd: dict[str, Any], el: dict[str, Any], eloc: str,
                      sink: list[ValidationIssue]) -> None:
    """A binding on an element none of whose types can be bound (a date, a Reference) constrains nothing: an
    error, as the reference validator reports it. The types are the element's own, or -- in a differential
    that does not restate them -- those of the same element in the base definition."""
    codes = [t["code"] for t in as_list(el.get("type")) if isinstance(t, dict) and isinstance(t.get("code"), str)]
    if not codes:
        base = run.v.structure(sd.get("baseDefinition")) if isinstance(sd.get("baseDefinition"), str) else None
        key = el.get("id") or el.get("path")
        found = base.by_id.get(key) if base is not None and isinstance(key, str) else None
        codes = [t.code for t in found.types] if found is not None else []
    if not codes or any(_bindable(run, c) for c in codes):
        return
    sink.append(issue("error", "business-rule", eloc, f"This element has a Binding but the types [{', '.join(codes)}] "
                      "do not make this kind of constraint relevant (hint: bind coded, string, uri or Quantity "
                      "elements only)", "sd.binding-type"))


def _bindable(run: RunContext, code: str) -> bool:
    """Is `code` one of the bindable types, or a specialisation of one (markdown, url, Age...)?"""
    seen = 0
    while code and seen < 16:
        if code in _BINDABLE:
            return True
        sd = run.v.defs.get(CORE_SD + code) if "/" not in code else run.v.defs.get(code)
        base = sd.get("baseDefinition") if isinstance(sd, dict) else None
        code = base.rsplit("/", 1)[-1] if isinstance(base, str) else ""
        seen += 1
    return False


def _known_profile(run: RunContext, url: str, ploc: str, rule: str,
                   sink: list[ValidationIssue]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The profile a type or target profile names and its base type; None (with the issue said) when the
    profile is not loaded (warning) or its base type cannot be found (error)."""
    sd = run.v.defs.get(url)
    if sd is None or sd.get("resourceType") != "StructureDefinition":
        sink.append(issue("warning", "not-found", ploc, f"Profile reference '{url}' has not been checked because it "
                          "is unknown", rule))
        return None
    t = _base_type(run, sd)
    if t is None:
        sink.append(issue("error", "invalid", ploc, f"Profile reference '{url}' has no base type that can be found",
                          rule))
        return None
    return sd, t


def _type_profile(run: RunContext, url: str, code: str, path: str, ploc: str, sink: list[ValidationIssue]) -> None:
    known = _known_profile(run, url, ploc, "sd.type-profile", sink)
    if known is None:
        return
    sd, t = known
    if not _is_instance_of(run, t, code):
        sink.append(issue("error", "invalid", ploc, f"Profile {url} is for type {t.get('type')}, but the {path} "
                          f"element has type {code} (hint: a type profile must constrain that very type)",
                          "sd.type-profile"))
        return
    if t.get("type") == "Extension":
        snapshot = (sd.get("snapshot") or {}).get("element") or []
        modifier = bool(snapshot and isinstance(snapshot[0], dict) and snapshot[0].get("isModifier"))
        if modifier != path.endswith(".modifierExtension"):
            where = "modifierExtension" if modifier else "extension"
            sink.append(issue("error", "invalid", ploc, f"Profile {url} defines {'a modifier' if modifier else 'an'} "
                              f"extension, but {path} is not a {where} element", "sd.type-profile"))


def _target_profile(run: RunContext, url: str, code: str, path: str, ploc: str, sink: list[ValidationIssue]) -> None:
    if code not in ("Reference", "canonical", "CodeableReference"):
        sink.append(issue("error", "invalid", ploc, f"Type {code} does not have target profiles (only Reference and "
                          "canonical do)", "sd.target-profile"))
        return
    known = _known_profile(run, url, ploc, "sd.target-profile", sink)
    if known is None:
        return
    sd, t = known
    if code == "canonical" and t.get("type") not in _CANONICAL_R4:
        sink.append(issue("error", "invalid", ploc, f"The target profile {url} of {path} is a {t.get('type')}, not a "
                          "canonical resource", "sd.target-profile"))
    elif code != "canonical" and sd.get("kind") != "resource":
        sink.append(issue("error", "invalid", ploc, f"The target profile {url} of {path} is a {sd.get('kind')} "
                          "definition, not a resource profile", "sd.target-profile"))


def _snapshot(run: RunContext, sd: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """A differential-only constraint profile whose snapshot cannot be generated (when its base is at hand)."""
    if sd.get("derivation") != "constraint" or ((sd.get("snapshot") or {}).get("element") if isinstance(
            sd.get("snapshot"), dict) else None) or not isinstance(sd.get("baseDefinition"), str):
        return
    if run.v.defs.snapshot(sd["baseDefinition"]) is None:
        return  # the base is not loaded: nothing to say here (its absence is reported where it is used)
    for el in as_list((sd.get("differential") or {}).get("element") if isinstance(sd.get("differential"), dict)
                      else None):
        eid, path = (el.get("id"), el.get("path")) if isinstance(el, dict) else (None, None)
        if isinstance(eid, str) and isinstance(path, str) and not _id_matches_path(eid, path):
            sink.append(issue("error", "processing", loc, f"Error generating Snapshot: the element {eid} has the path "
                              f"{path!r}, which is not the path its id names (hint: the path is the id without its "
                              "slice names)", "sd.snapshot"))
            return
    try:
        generate_snapshot(sd, run.v.defs)
    except SnapshotError as exc:
        sink.append(issue("error", "processing", loc, f"Error generating Snapshot: {exc}", "sd.snapshot"))
    except Exception:  # noqa: BLE001 - a generator failure on odd input is not this rule's verdict
        return


def _id_matches_path(eid: str, path: str) -> bool:
    """An element id is its path with slice names (`:name`) added; a choice may be named by its renamed form
    on one side (`value[x]` / `valueQuantity`)."""
    ids = [seg.partition(":")[0] for seg in eid.split(".")]
    paths = path.split(".")
    if len(ids) != len(paths):
        return False
    for a, b in zip(ids, paths):
        if a == b:
            continue
        choice, renamed = (a, b) if a.endswith("[x]") else (b, a) if b.endswith("[x]") else (None, None)
        if choice is None or not renamed.startswith(choice[:-3]) or not renamed[len(choice) - 3:][:1].isupper():
            return False
    return True


_INHERIT_OBLIGATIONS = "http://hl7.org/fhir/StructureDefinition/inherit-obligations"
_OBLIGATION_PROFILE = "http://hl7.org/fhir/StructureDefinition/obligation-profile"


def _inherited_obligations(run: RunContext, sd: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    for i, ext in enumerate(as_list(sd.get("extension"))):
        if not isinstance(ext, dict) or ext.get("url") != _INHERIT_OBLIGATIONS:
            continue
        url = ext.get("valueCanonical")
        if not isinstance(url, str):
            continue
        eloc = f"{loc}.extension[{i}]"
        other = run.v.defs.get(url)
        if other is None or other.get("resourceType") != "StructureDefinition":
            sink.append(issue("warning", "not-found", eloc, f"The profile '{url}' whose obligations are inherited "
                              "could not be found", "sd.obligations"))
            continue
        if not any(isinstance(e, dict) and e.get("url") == _OBLIGATION_PROFILE and e.get("valueBoolean") is True
                   for e in as_list(other.get("extension"))):
            sink.append(issue("error", "business-rule", eloc, f"The profile '{url}' is not marked as an obligation "
                              "profile", "sd.obligations"))
        elif other.get("baseDefinition") != sd.get("baseDefinition"):
            sink.append(issue("error", "business-rule", eloc, f"The profile '{url}' has a different base "
                              f"'{other.get('baseDefinition')}' from that expected '{sd.get('baseDefinition')}'",
                              "sd.obligations"))
