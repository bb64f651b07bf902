"""One validate() call: walk an instance against compiled StructureDefinitions and collect issues.

One small method per rule kind (structure, cardinality, fixed/pattern, slicing, invariants); the
rules that need more than the element at hand live in their own modules (`references`, `bindings`,
`extensions`, `bundles`). The location is built on the way down, FHIRPath-style
(`Bundle.entry[3].resource.code.coding[0]`). A `Run` holds the state of one call: the issue list,
the bundles and resources being walked (for reference resolution), and a memo of (resource,
profile) results so a resource reached through a slice discriminator, its `meta.profile` and a
reference target is validated once.

Speed: everything that depends only on the definitions is worked out once and cached on the
compiled elements -- per element the JSON key layout (`Elem.layout`), per (element, type) a
`plan.Plan` of which rules apply, per (element, container) the invariants with their evaluator
(`checks.evaluator_for`), per (container, key order) the shape of an object (`plan.shape_of`). The
walk itself then only follows flags: an object whose properties are all plain known children takes
the fast loop in `_object`, where a primitive with nothing but a format check costs no call; a shape met often
gets that loop generated as straight-line Python (`codegen`). `benchmarks/validate.py` measures it against
`orjson.loads` and Medplum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.bindings import (
    check_binding,
    check_code_given,
    check_codes_known,
    check_quantity_unit,
    member_of,
)
from conformance.fhir.bundles import check_bundle, check_bundle_rules, check_reachable
from conformance.fhir.checks import checks_of
from conformance.fhir.bounds import min_max, quantity_bounds
from conformance.fhir.datatype_rules import check_identifier, without_value
from conformance.fhir.definitional import DEFINITIONAL_TYPES, check_definitional
from conformance.fhir.example_urls import check_example_urls
from conformance.fhir.extensions import check_extension
from conformance.fhir.invariants import EvalError
from conformance.fhir.narrative import check_narrative_control, check_narrative_links, check_text_links
from conformance.fhir.native import dom_3_unmatched
from conformance.fhir.outcome import finish
from conformance.fhir.plan import ARRAY, COMPLEX, PRIMITIVE, RESOURCE, SINGLE, Plan, plan_for, shape_of
from conformance.fhir.primitives import PRIMITIVE_TYPES, check_primitive, json_kind
from conformance.fhir.questionnaire import check_questionnaire_response
from conformance.fhir.references import CORE_SD, BundleIndex, check_reference, resolve
from conformance.fhir.settings import Settings
from conformance.fhir.slicing import candidates, instance_types, slice_matches, type_filter
from conformance.fhir.vital_signs import with_vital_sign_profile
from conformance.fhir.values import (
    TEXT_RULE_TYPES,
    attachment_data,
    did_you_mean,
    equal,
    fixed_diff,
    from_note,
    issue,
    matches_pattern,
    short,
    text_rules,
)

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import ValidatorContext
    from conformance.fhir.structure import CompiledStructure, Constraint, Elem, Layout
    from conformance.issues import ValidationIssue

_RESOURCE_TYPES_ABSTRACT = frozenset({"Resource", "DomainResource"})
def _has_alternative(ext: Any, alternatives: tuple[str, ...]) -> bool:
    """Does a primitive's `_x` object carry one of the extensions allowed in place of its value?"""
    return isinstance(ext, dict) and isinstance(ext.get("extension"), list) and any(
        isinstance(e, dict) and e.get("url") in alternatives for e in ext["extension"])


def _choice_of(container: Elem, key: str) -> Elem | None:
    """The choice child `key` names with a type suffix (valueString -> value[x]), when it is not a known key."""
    for child in container.children.values():
        if child.is_choice and key.startswith(child.name) and key[len(child.name):len(child.name) + 1].isupper():
            return child
    return None




class Run:
    """State of one validate() call."""

    def __init__(self, v: ValidatorContext, settings: Settings | None = None) -> None:
        self.v = v
        self.settings = settings or Settings()
        self.issues: list[ValidationIssue] = []
        self.memo: dict[tuple[int, str], list[ValidationIssue]] = {}
        self.bundles: list[BundleIndex] = []
        self.resources: list[tuple[dict[str, Any], str]] = []  # (resource, loc) stack
        self.conform_memo: dict[tuple[int, str], bool] = {}
        # (type, declared profiles, extra profiles, requested) -> structures to walk, problems (`_structures`)
        self.structures_for: dict[tuple[Any, ...], Any] = {}
        self.active: set[tuple[int, str]] = set()
        self.hosts: list[tuple[Elem, str, Any]] = []  # (element, type, object) of objects holding extensions
        self.element_ids: list[dict[str, str]] = []  # per resource being walked: element id -> first location  # (element, type) of the objects being walked, for extension contexts

    # -- results -------------------------------------------------------------------------------
    def result(self, root: Any = None) -> list[ValidationIssue]:
        """The issues, one per cause, errors first and in document order (see `outcome.finish`)."""
        return finish(self.issues, root, max_issues=self.settings.max_issues)

    # -- resources -----------------------------------------------------------------------------
    def resource(self, res: dict[str, Any], loc: str, extra_profiles: tuple[str, ...] = (), *,
                 requested: bool = False, out: list[ValidationIssue] | None = None, probe: bool = False) -> None:
        """Validate a resource against base + meta.profile + extra profiles (+ the vital signs profile its code
        calls for, unless this walk only `probe`s whether it conforms to the extra profiles)."""
        sink = self.issues if out is None else out
        rt = res.get("resourceType")
        if not isinstance(rt, str):
            sink.append(issue("error", "structure", loc, "resource has no resourceType; it cannot be validated",
                               "structure.resource-type"))
            return
        base = self.v.structure(rt)
        if base is None or base.kind != "resource" or base.derivation != "specialization":
            sink.append(issue("error", "structure", loc, f"unknown resource type {rt!r}" + did_you_mean(
                rt, [u.rsplit('/', 1)[1] for u in self.v.defs.urls() if u.startswith(CORE_SD) and u[len(CORE_SD):][:1]
                     .isupper()]), "structure.resource-type"))
            return
        if rt == "Observation" and not probe and self.settings.vital_signs_profiles:
            extra_profiles = with_vital_sign_profile(res, loc, sink, extra_profiles)
        meta = res.get("meta")
        declared = meta.get("profile") if isinstance(meta, dict) else None
        key = (rt, tuple(u if isinstance(u, str) else None for u in declared) if isinstance(declared, list) else (),
               tuple(extra_profiles), requested)
        chosen = self.structures_for.get(key)
        if chosen is None:
            chosen = self.structures_for[key] = self._structures(rt, base, *key[1:])
        structures, problems = chosen
        for sev, code, where, message, rule, source in problems:
            sink.append(issue(sev, code, loc + where, message, rule, source))
        self.resources.append((res, loc))
        pushed = False
        if rt == "Bundle":
            self.bundles.append(BundleIndex(res, loc))
            pushed = True
        try:
            for cs in structures:
                key = (id(res), cs.url)
                cached = self.memo.get(key)
                if cached is None:
                    if key in self.active:
                        continue
                    self.active.add(key)
                    cached = []
                    self.element_ids.append({})  # element ids are unique within one resource (per pass)
                    self._object(res, cs.root, cs.root, rt, loc, cached, is_resource=True)
                    self.element_ids.pop()
                    self.active.discard(key)
                    self.memo[key] = cached
                sink.extend(cached)
            if not self.settings.allow_examples:
                check_example_urls(self, res, rt, loc, sink)
            if rt == "Bundle":
                check_bundle(res, loc, sink, self.v.resource_types(), self.bundles[-1])
                if self.settings.bundle_rules:
                    check_bundle_rules(self, res, loc, sink)
                check_reachable(res, self.bundles[-1], loc, sink)
            elif rt == "QuestionnaireResponse":
                check_questionnaire_response(self, res, loc, sink)
            elif rt in DEFINITIONAL_TYPES:
                check_definitional(self, res, rt, loc, sink)
        finally:
            self.resources.pop()
            if pushed:
                self.bundles.pop()

    def _structures(self, rt: str, base: CompiledStructure, declared: tuple[str | None, ...],
                    extra_profiles: tuple[str, ...], requested: bool) -> tuple[list[CompiledStructure], list[Any]]:
        """The structures a resource of type `rt` declaring `declared` is walked against, and the problems with its
        profiles as (severity, code, location suffix, message, rule, source); kept per run in `structures_for`."""
        structures: list[CompiledStructure] = []
        problems: list[tuple[str, str, str, str, str, str]] = []
        # (url, why, where a problem with it is said: a declared profile at its own meta.profile item)
        urls = [(u, "declared", f".meta.profile[{i}]") for i, u in enumerate(declared) if u is not None]
        urls += [(u, "requested" if requested else "slice", "") for u in extra_profiles]
        urls += [(u, "global", ".meta.profile") for u in self.v.global_profiles().get(rt, ())]
        seen_urls = set()
        for url, why, where in urls:
            if url in seen_urls:
                continue
            seen_urls.add(url)
            cs = self.v.structure(url)
            if cs is None and url in self.v.unusable:
                problems.append(("error", "not-supported", where,
                                 f"profile {url} is loaded but cannot be used, so the resource was not checked "
                                 f"against it: {self.v.unusable[url]}", "profile.unusable", ""))
                continue
            if cs is None:
                if why in ("declared", "global"):
                    problems.append(("warning", "not-found", where,
                                     f"profile {url} is not in the loaded packages, so the resource was not checked "
                                     "against it (hint: `conformance packages add` the package that defines it)",
                                     "profile.unknown", ""))
                else:
                    problems.append(("error", "not-found", "", f"profile {url} is not in the loaded packages "
                                     "(hint: `conformance packages add` the package that defines it)",
                                     "profile.unknown", ""))
                continue
            if cs.type != rt and cs.type not in _RESOURCE_TYPES_ABSTRACT:
                problems.append(("error", "structure", "", f"profile {url} constrains {cs.type}, not {rt}",
                                 "profile.wrong-type", url))
                continue
            structures.append(cs)
        if not any(s.type == rt for s in structures):
            structures.insert(0, base)
        return structures, problems

    def conforms(self, res: dict[str, Any], url: str, loc: str) -> bool:
        """Does `res` validate against profile `url` with no errors? (memoised; used by slicing/targets)"""
        key = (id(res), url)
        hit = self.conform_memo.get(key)
        if hit is not None:
            return hit
        if key in self.active:
            return True  # a cycle: assume conformance, the outer walk reports what is wrong
        cs = self.v.structure(url)
        if cs is None:
            self.conform_memo[key] = False
            return False
        if cs.type != res.get("resourceType") and cs.type not in _RESOURCE_TYPES_ABSTRACT:
            self.conform_memo[key] = False
            return False
        sub: list[ValidationIssue] = []
        self.resource(res, loc, (url,), out=sub, probe=True)
        ok = not any(i.is_error for i in sub)
        self.conform_memo[key] = ok
        return ok

    def profile_issues(self, res: dict[str, Any], url: str, loc: str) -> list[ValidationIssue]:
        """The issues of `res` validated against profile `url` (memoised per resource and profile)."""
        sub: list[ValidationIssue] = []
        self.resource(res, loc, (url,), out=sub)
        return sub

    # -- objects -------------------------------------------------------------------------------
    def _structure_for(self, elem: Elem, type_code: str) -> tuple[Elem, str]:
        """The element whose children describe a value of `elem` with type `type_code`."""
        if elem.children:
            return elem, type_code
        if elem.content_ref:
            owner = self.v.structure(elem.sd_url)
            cs = self.v.structure(owner.type) if owner is not None and owner.derivation == "constraint" else owner
            target = cs.by_id.get(elem.content_ref.lstrip("#")) if cs else None
            if target is None and cs is not None:
                target = next((e for e in cs.by_id.values() if e.path == elem.content_ref.lstrip("#")), None)
            if target is not None:
                if target.children:
                    return target, type_code
                elem = target
        for t in elem.types:
            if t.code == type_code and t.profiles:
                cs = self.v.structure(t.profiles[0])
                if cs is not None:
                    return cs.root, type_code
        cs = self.v.structure(type_code) if type_code else None
        if cs is None:
            return elem, type_code
        return cs.root, type_code

    def _object(self, obj: dict[str, Any], elem: Elem, container: Elem, type_code: str, loc: str,
                sink: list[ValidationIssue], is_resource: bool = False, host: Elem | None = None,
                checks: tuple[tuple[Constraint, Any], ...] | None = None) -> None:
        """Validate the properties of a JSON object against `container`'s children, then `elem`'s invariants
        (`checks`: `checks_of(elem, container)` when the caller has it at hand).

        The hot loop of the validator. What depends only on the object's keys in order (its shape: are they all
        known children under their plain names, with no choice present twice; their plans; whether required
        children are all there) is worked out once per container and shape (`plan.shape_of`). For such a regular
        object each property is handled right here, and a primitive whose plan says "format check only" costs
        no call at all. Anything else goes through `_properties`."""
        lay = container._layout or container.layout()
        shape = lay.shapes.get(tuple(obj))
        if shape is None or shape[0] != is_resource:
            shape = shape_of(self, obj, lay, is_resource)
        _, has_id, hosting, kps, itself, required_ok, walker = shape
        # the loop below, generated for this shape once it is met often (`codegen`): None when it did the object
        if walker is not None and walker(self, obj, elem, container, type_code, loc, sink, host, checks) is None:
            return
        if has_id and not is_resource and self.element_ids and type_code != "ElementDefinition":
            # (an ElementDefinition's id is its path, repeated in snapshot and differential by design)
            self._element_id(obj["id"], loc, sink)
        # the object holding an extension, for its context check: only objects with extensions need it
        if hosting:
            self.hosts.append((host or elem, type_code, obj))  # popped below (errors end the run)
        if kps is None:
            self._properties(obj, container, lay.keymap, loc, sink, is_resource)
        else:
            if itself:
                self._object_itself(obj, loc, sink, is_resource)
            for kp, val in zip(kps, obj.values()):
                if kp is None:
                    continue  # a resource's resourceType
                key, child, tcode, plan, mode, quick = kp
                if mode == SINGLE:
                    if not isinstance(val, list):
                        if child.max == 0:
                            self._cardinality(child, 1, loc, sink)
                        if quick is not None:
                            if not quick(val):
                                self._planned(val, None, child, tcode, plan, f"{loc}.{key}", sink)
                        elif plan.kind == COMPLEX and type(val) is dict:  # _planned's own path for an object
                            vloc = f"{loc}.{key}"
                            self._object(val, child, plan.container, tcode, vloc, sink,  # type: ignore[arg-type]
                                         False, None, plan.checks)  # positional: the cheaper call
                            if plan.post:
                                self._complex_rules(val, child, tcode, plan, vloc, sink)
                        else:
                            self._planned(val, None, child, tcode, plan, f"{loc}.{key}", sink)
                        continue
                elif mode == ARRAY:
                    if isinstance(val, list) and val:
                        n = len(val)
                        if n < child.min or (child.max is not None and n > child.max):
                            self._cardinality(child, n, loc, sink)
                        if quick is not None:
                            for i, v in enumerate(val):
                                if not quick(v):
                                    self._planned(v, None, child, tcode, plan, f"{loc}.{key}[{i}]", sink)
                        elif plan.kind == COMPLEX:
                            inner, inner_checks, post = plan.container, plan.checks, plan.post
                            for i, v in enumerate(val):
                                vloc = f"{loc}.{key}[{i}]"
                                if type(v) is dict:
                                    self._object(v, child, inner, tcode, vloc, sink,  # type: ignore[arg-type]
                                                 False, None, inner_checks)
                                    if post:
                                        self._complex_rules(v, child, tcode, plan, vloc, sink)
                                else:
                                    self._planned(v, None, child, tcode, plan, vloc, sink)
                        else:
                            for i, v in enumerate(val):
                                self._planned(v, None, child, tcode, plan, f"{loc}.{key}[{i}]", sink)
                        continue
                self._child(child, [(key, val, None)], lay.keymap, loc, sink)
        if not required_ok:
            self._missing_required(obj, container, lay, loc, sink)
        if checks is None:
            checks = checks_of(elem, container)
        if checks:
            self._constraints(checks, obj, elem, type_code, loc, sink, is_resource)
        if hosting:
            self.hosts.pop()

    def _missing_required(self, obj: dict[str, Any], container: Elem, lay: Layout, loc: str,
                          sink: list[ValidationIssue]) -> None:
        """The required children of `container` that `obj` lacks (and the required slices of an absent one)."""
        keys = obj.keys()
        for child, child_keys in lay.required:
            if keys.isdisjoint(child_keys):
                if child.is_choice and any(_choice_of(container, k) is child for k in keys):
                    continue  # present with a type it may not have: that error is the cause
                self._cardinality(child, 0, loc, sink)
                for sl in child.slices:  # an absent sliced element: each required slice is missing too
                    if sl.min > 0:
                        sink.append(issue("error", "required", loc, f"slice {sl.id}: minimum required = "
                                          f"{sl.min}, but only found 0" + from_note(sl), sl.id, sl.sd_url))

    def _plan(self, elem: Elem, tcode: str) -> Plan:
        plans = elem.plans
        plan = plans.get(tcode) if plans is not None else None
        return plan if plan is not None else plan_for(self, elem, tcode)

    @staticmethod
    def _suggest(container: Elem, key: str) -> str:
        """' (did you mean ...?)' for an unknown property, memoised per element (difflib is slow, and a
        generator that gets a name wrong gets it wrong in every resource)."""
        lay = container.layout()
        hint = lay.suggestions.get(key)
        if hint is None:
            hint = lay.suggestions[key] = did_you_mean(key, list(lay.keymap))
        return hint

    def _element_id(self, eid: Any, loc: str, sink: list[ValidationIssue]) -> None:
        """An element id seen twice in one resource (ids are what narrative and references point at)."""
        if not isinstance(eid, str):
            return
        seen = self.element_ids[-1]
        first = seen.get(eid)
        if first is None:
            seen[eid] = loc
        else:
            sink.append(issue("error", "invalid", loc, f"Duplicate id value '{eid}' (also at {first}; hint: element "
                              "ids must be unique within a resource)", "element.duplicate-id"))

    def _object_itself(self, obj: dict[str, Any], loc: str, sink: list[ValidationIssue], is_resource: bool) -> None:
        """Rules on the object as a whole: a resource's id, ele-1 for an element without content."""
        if is_resource:
            if "id" in obj:
                problem = check_primitive("id", obj["id"])
                if problem:
                    sink.append(issue("error", "value", f"{loc}.id", f"invalid resource id: {problem}", "type.id"))
        elif len(obj) <= ("id" in obj):
            sink.append(issue("error", "invariant", loc, "ele-1: All FHIR elements must have a @value or children "
                               "(this object is empty)", "ele-1"))

    def _properties(self, obj: dict[str, Any], container: Elem, km: dict[str, tuple[Elem, str]], loc: str,
                    sink: list[ValidationIssue], is_resource: bool) -> None:
        """The general case: unknown properties, `_x` primitive extensions, a choice under several keys.
        Properties are grouped per child element first (`x`, `_x` and the keys of a choice land together)."""
        groups: dict[Elem, list[tuple[str, Any, Any]]] = {}  # child -> [(json key, value, _value)]
        for key, val in obj.items():
            if is_resource and key == "resourceType":
                continue
            if key == "fhir_comments" and self.settings.allow_comments:
                continue
            if key[:1] == "_":
                m = km.get(key[1:])
                if m is None or m[1] not in PRIMITIVE_TYPES:
                    sink.append(issue("error", "structure", loc, f"Unrecognized property {key!r}: there is no "
                                       f"primitive {key[1:]!r} in {container.path}", "structure.unknown-element"))
                    continue
                entry = (key[1:], None, val)
            else:
                m = km.get(key)
                if m is None:
                    choice = _choice_of(container, key)
                    if choice is not None:  # a type the (profiled) choice does not allow: say so, where it is
                        allowed = ", ".join(t.code for t in choice.types)
                        found = key[len(choice.name):]
                        if len(choice.types) == 1:  # one type allowed: the element is that, with the wrong type
                            sink.append(issue("error", "structure", f"{loc}.{key}", f"The definition of {choice.id} "
                                              f"{'in ' + choice.sd_url + ' ' if choice.sd_url else ''}allows for the "
                                              f"type {allowed} but found type {found}", choice.id, choice.sd_url))
                        else:  # as the reference validator: which element it is cannot be told, report on the parent
                            sink.append(issue("error", "structure", loc, f"The type of element {key} is not known - "
                                              f"it could not be determined from the information available. Valid "
                                              f"types at this point are {allowed}", choice.id, choice.sd_url))
                        continue
                    sink.append(issue("error", "structure", loc, f"Unrecognized property {key!r} in "
                                       f"{container.path}{self._suggest(container, key)}",
                                       "structure.unknown-element"))
                    continue
                entry = (key, val, None)
            entries = groups.get(m[0])
            if entries is None:
                groups[m[0]] = [entry]
            else:
                entries.append(entry)
        self._object_itself(obj, loc, sink, is_resource)
        for child, entries in groups.items():
            if len(entries) == 1 and child.slicing is None and entries[0][2] is None:
                key, val, _ = entries[0]  # one JSON key, no `_key`, no slicing
                if child.is_array:
                    if isinstance(val, list) and val:
                        if len(val) < child.min or (child.max is not None and len(val) > child.max):
                            self._cardinality(child, len(val), loc, sink)
                        for i, v in enumerate(val):
                            self._value(v, None, child, km[key][1], f"{loc}.{key}[{i}]", sink)
                        continue
                elif not isinstance(val, list):
                    if child.max == 0:
                        self._cardinality(child, 1, loc, sink)
                    self._value(val, None, child, km[key][1], f"{loc}.{key}", sink)
                    continue
            self._child(child, entries, km, loc, sink)

    def _child(self, child: Elem, entries: list[tuple[str, Any, Any]], km: dict[str, tuple[Elem, str]], loc: str,
               sink: list[ValidationIssue]) -> None:
        """The general case of one child's values: `x` with `_x`, choices under several keys, JSON shape errors,
        slicing."""
        # merge `x` and `_x`, per JSON key (a choice can appear under two keys: an error)
        by_key: dict[str, list[Any]] = {}
        for key, val, ext in entries:
            slot = by_key.setdefault(key, [None, None])
            if ext is None:
                slot[0] = val
            else:
                slot[1] = ext
        if child.is_choice and len(by_key) > 1:
            sink.append(issue("error", "structure", f"{loc}.{child.name}[x]", "only one type of a choice element "
                               f"may be present, found {', '.join(sorted(by_key))}", "structure.choice"))
        items: list[tuple[Any, Any, str, str]] = []  # (value, ext, type code, location)
        for key, (val, ext) in by_key.items():
            tcode = km[key][1]
            if child.is_array:
                vals = val if val is not None else []
                exts = ext if ext is not None else []
                if val is not None and not isinstance(val, list):
                    sink.append(issue("error", "structure", f"{loc}.{key}", f"{key} repeats, so it must be a JSON "
                                       f"array, found {json_kind(val)}", "structure.json-array"))
                    vals = [val]
                if ext is not None and not isinstance(ext, list):
                    sink.append(issue("error", "structure", f"{loc}._{key}", f"_{key} must be a JSON array aligned "
                                       f"with {key}", "structure.json-array"))
                    exts = []
                if isinstance(val, list) and not val and ext is None:
                    sink.append(issue("error", "structure", f"{loc}.{key}", "arrays must not be empty (omit the "
                                       "property instead)", "structure.empty-array"))
                n = max(len(vals), len(exts))
                for i in range(n):
                    items.append((vals[i] if i < len(vals) else None, exts[i] if i < len(exts) else None, tcode,
                                  f"{loc}.{key}[{i}]"))
            else:
                if isinstance(val, list) or isinstance(ext, list):
                    sink.append(issue("error", "structure", f"{loc}.{key}", f"{key} does not repeat, so it must not "
                                       "be a JSON array", "structure.json-array"))
                    if isinstance(val, list):
                        for i, v in enumerate(val):
                            items.append((v, None, tcode, f"{loc}.{key}[{i}]"))
                        continue
                    ext = None
                items.append((val, ext, tcode, f"{loc}.{key}"))
        self._cardinality(child, len(items), loc, sink)
        if child.slicing is not None and child.slices:
            self._sliced(child, items, loc, sink)
        else:
            for val, ext, tcode, iloc in items:
                self._value(val, ext, child, tcode, iloc, sink)

    def _cardinality(self, child: Elem, count: int, loc: str, sink: list[ValidationIssue]) -> None:
        where = loc  # as the reference validator: a missing/extra element is reported on its parent
        if count < child.min:
            sink.append(issue("error", "required", where, f"{child.path}: minimum required = {child.min}, but only "
                               f"found {count}" + from_note(child), child.id, child.sd_url))
        if child.max is not None and count > child.max:
            if child.max == 0:
                msg = f"{child.path} is not allowed here (max = 0), found {count}"
            else:
                msg = f"{child.path}: max allowed = {child.max}, but found {count}"
            sink.append(issue("error", "structure", where, msg + from_note(child), child.id, child.sd_url))

    # -- values --------------------------------------------------------------------------------
    def _value(self, val: Any, ext: Any, elem: Elem, tcode: str, loc: str, sink: list[ValidationIssue]) -> None:
        self._planned(val, ext, elem, tcode, self._plan(elem, tcode), loc, sink)

    def _planned(self, val: Any, ext: Any, elem: Elem, tcode: str, plan: Plan, loc: str,
                 sink: list[ValidationIssue]) -> None:
        """One value of `elem` with type `tcode`, checked as its plan says."""
        if plan.kind == PRIMITIVE:
            self._primitive(val, ext, elem, tcode, plan, loc, sink)
            return
        if val is None:
            sink.append(issue("error", "structure", loc, "null is not allowed here", "structure.null"))
            return
        if ext is not None:
            sink.append(issue("error", "structure", loc, f"_ properties are only for primitive types, not {tcode}",
                               "structure.unknown-element"))
        if not isinstance(val, dict):
            sink.append(issue("error", "structure", loc, f"expected a JSON object for {tcode}, found "
                               f"{json_kind(val)}", "structure.json-type"))
            return
        if plan.kind == RESOURCE:
            self._contained_resource(val, elem, loc, sink)
            return
        assert plan.container is not None
        self._object(val, elem, plan.container, tcode, loc, sink, checks=plan.checks)
        if plan.post:
            self._complex_rules(val, elem, tcode, plan, loc, sink)

    def _complex_rules(self, val: dict[str, Any], elem: Elem, tcode: str, plan: Plan, loc: str,
                       sink: list[ValidationIssue]) -> None:
        """The rules on an object value after its properties (`plan.post`: the plan has at least one)."""
        # type profile on an element that also has inline children: validate against the type profile too
        for root in plan.type_profile_roots:
            self._object(val, root, root, tcode, loc, sink)
        if plan.fixed_pattern:
            self._fixed_pattern(val, elem, loc, sink)
        wrong_code = plan.codes_known and self._codes_known(val, tcode, loc, sink, elem)
        if plan.quantity_unit:
            wrong_code = check_quantity_unit(self, val, loc, sink)
        if plan.binding and not wrong_code:  # a code its own system does not have, or none: the binding error follows
            self._binding(val, elem, tcode, loc, sink)
        if plan.identifier:
            check_identifier(val, loc, sink)
        elif plan.attachment:
            attachment_data(val, loc, sink)
        elif plan.quantity_bounds:
            quantity_bounds(val, elem, loc, sink)
        elif plan.text_links:
            if plan.narrative:
                check_narrative_control(self, val, elem, loc, sink)
            if "extension" in val:
                check_text_links(self, val, loc, sink)
        if plan.missing_profiles:
            sink.append(issue("error", "not-found", loc, f"Unknown profile {' / '.join(plan.missing_profiles)}: the "
                              "value cannot be checked against it (hint: `conformance packages add` the package that "
                              "defines it)", "profile.unknown", elem.sd_url))
        if plan.reference_targets is not None:
            check_reference(self, val, elem, plan.reference_targets, loc, sink)
        elif plan.extension:
            check_extension(self, val, elem, loc, sink)

    def _contained_resource(self, val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        """A resource inside an element (Bundle.entry.resource, contained, parameter): base + its profiles."""
        profiles = tuple(p for t in elem.types for p in t.profiles)
        if profiles and not self.settings.check_contained and elem.path.endswith(".contained"):
            profiles = ()  # the settings ask for contained resources to be checked against their own base only
        if profiles:  # only the profiles for this resource type; several: it must conform to one of them
            rt = val.get("resourceType")
            profiles = tuple(p for p in profiles if self._profile_type(p) in (rt, None, "Resource"))
            if len(profiles) > 1:
                good = next((p for p in profiles if self.conforms(val, p, loc)), None)
                profiles = (good,) if good else profiles
        self.resource(val, loc, profiles, out=sink)
        self._fixed_pattern(val, elem, loc, sink)

    def _is_resource_type(self, code: str) -> bool:
        cs = self.v.structure(code)
        return cs is not None and cs.kind == "resource"

    def _primitive(self, val: Any, ext: Any, elem: Elem, tcode: str, plan: Plan, loc: str,
                   sink: list[ValidationIssue]) -> None:
        if val is None and ext is None:
            sink.append(issue("error", "structure", loc, "null is not allowed here (a null in an array needs a "
                               "matching _ extension object)", "structure.null"))
            return
        if val is not None:
            problem = None if plan.quick_valid(val) else check_primitive(tcode, val)  # type: ignore[misc]
            if problem:
                kind = "value" if isinstance(val, str) else "structure"
                sink.append(issue("error", kind, loc, problem, f"type.{tcode}"))
            elif tcode in TEXT_RULE_TYPES:
                text_rules(val, tcode, self.settings.no_html_in_markdown, loc, sink)
            elif tcode == "xhtml":
                from conformance.fhir.xhtml import check_xhtml
                for p in check_xhtml(val):
                    sink.append(issue("error", "value", loc, p, "txt-1"))
                check_narrative_links(self, val, loc, sink)
            if plan.max_length is not None and isinstance(val, str) and len(val) > plan.max_length:
                sink.append(issue("error", "value", loc, f"value is longer than maxLength {elem.max_length}",
                                   elem.id, elem.sd_url))
            if plan.min_max:
                min_max(val, elem, loc, sink)
        if val is None and elem.value_required is not None and not _has_alternative(ext, elem.value_required):
            sink.append(issue("error", "required", loc, f"The element definition ``{elem.path}`` in the profile "
                              f"'{elem.sd_url}' requires that a value be present in this element (an extension "
                              "such as data-absent-reason does not stand in for it here)", elem.id, elem.sd_url))
        elif val is None and tcode == "code" and plan.primitive_binding:
            check_code_given(ext, elem, loc, sink)
        if ext is not None:
            if not isinstance(ext, dict):
                sink.append(issue("error", "structure", loc, f"the _ object of a primitive must be a JSON object, "
                                   f"found {json_kind(ext)}", "structure.json-type"))
            elif (val is not None or "value" in ext) and (ext := without_value(ext, loc, sink)).keys() <= {"id"}:
                if not isinstance(ext.get("id", ""), str):
                    sink.append(issue("error", "structure", loc, "the id of an element must be a JSON string",
                                      "structure.json-type"))
            else:  # extensions of the primitive (an id alone with a value is complete: no ele-1 on it)
                cs = self.v.structure(tcode)
                if cs is not None:
                    self._object(ext, cs.root, cs.root, tcode, loc, sink, host=elem)
        if val is not None:
            if plan.fixed_pattern:
                self._fixed_pattern(val, elem, loc, sink)
            if plan.primitive_binding:
                self._binding(val, elem, tcode, loc, sink)
        if plan.checks:
            self._constraints(plan.checks, val, elem, tcode, loc, sink, False, primitive=True)

    # -- fixed / pattern -----------------------------------------------------------------------
    def _fixed_pattern(self, val: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        if elem.fixed is not None and not equal(val, elem.fixed[1]):
            fixed_diff(val, elem.fixed[1], elem, loc, sink)
        if elem.pattern is not None and not matches_pattern(val, elem.pattern[1]):
            sink.append(issue("error", "value", loc, f"value must match the pattern {short(elem.pattern[1])} "
                               f"(from {elem.id}), found {short(val)}", elem.id, elem.sd_url))

    # -- terminology ---------------------------------------------------------------------------
    def _binding(self, val: Any, elem: Elem, tcode: str, loc: str, sink: list[ValidationIssue]) -> None:
        check_binding(self, val, elem, tcode, loc, sink)

    def _codes_known(self, val: dict[str, Any], tcode: str, loc: str, sink: list[ValidationIssue],
                     elem: Elem | None = None) -> bool:
        return check_codes_known(self, val, tcode, loc, sink, elem)

    # -- slicing -------------------------------------------------------------------------------
    def _sliced(self, base: Elem, items: list[tuple[Any, Any, str, str]], loc: str,
                sink: list[ValidationIssue]) -> None:
        slicing = base.slicing
        assert slicing is not None
        counts = [0] * len(base.slices)
        last_index = -1
        unmatched: list[tuple[Any, Any, str, str]] = []
        by_type = type_filter(self, base)  # Bundle.entry of an IPS document: 31 slices, one per resource type
        every = range(len(base.slices))
        for val, ext, tcode, iloc in items:
            match = None
            # only the slices that take the value's type: slice_matches would say no to the others
            tried = every if by_type is None else candidates(by_type, instance_types(self, base, val, tcode,
                                                                                     by_type[0]))
            for si in tried:
                if slice_matches(self, base.slices[si], base, val, tcode, iloc):
                    match = si
                    break
            if match is None:
                if slicing.rules == "closed":
                    sink.append(issue("error", "structure", iloc, f"this element does not match any known slice of "
                                       f"{base.id} and the slicing is closed"
                                       f" (slices: {', '.join(s.slice_name or '?' for s in base.slices)})",
                                       base.id, base.sd_url))
                elif slicing.rules == "open" and not base.is_choice and base.sd_url and not base.sd_url.startswith(CORE_SD):
                    sink.append(issue("information", "informational", iloc, "This element does not match any known "
                                      f"slice defined in the profile {base.sd_url} (this may not be a problem, but "
                                      "check it is not meant to match a slice)", base.id, base.sd_url))
                # no slice matched: only the sliced element's own definition applies -- never a guessed slice,
                # whose rules would report what follows from the mismatch, not a cause
                self._value(val, ext, base, tcode, iloc, sink)
                unmatched.append((val, ext, tcode, iloc))
                continue
            if slicing.ordered and match < last_index:
                sink.append(issue("error", "structure", iloc, f"slices of {base.id} are ordered; slice "
                                   f"{base.slices[match].slice_name} appears after "
                                   f"{base.slices[last_index].slice_name}", base.id, base.sd_url))
            last_index = max(last_index, match)
            counts[match] += 1
            sl = base.slices[match]
            self._value(val, ext, sl, tcode, iloc, sink)
        for sl, n in zip(base.slices, counts):
            if n < sl.min and self._explain_missing_slice(base, sl, unmatched, sink):
                continue
            if n < sl.min:
                sink.append(issue("error", "required", loc, f"slice {sl.id}: minimum required = "
                                   f"{sl.min}, but only found {n}" + from_note(sl), sl.id, sl.sd_url))
            if sl.max is not None and n > sl.max:
                sink.append(issue("error", "structure", loc, f"slice {sl.id}: max allowed = "
                                   f"{sl.max}, but found {n}" + from_note(sl), sl.id, sl.sd_url))

    def _explain_missing_slice(self, base: Elem, sl: Elem, unmatched: list[tuple[Any, Any, str, str]],
                               sink: list[ValidationIssue]) -> bool:
        """A required slice discriminated by profile found no member, but an unmatched element agrees with its
        other discriminators (the Composition of a document that fails Composition-uv-ips): report why that
        element is not a member -- the cause -- instead of the slice count that follows from it. Consumes the
        element (it explains one slice). False when there is no such element or it shows no error."""
        assert base.slicing is not None
        if not any(d == "profile" for d, _p in base.slicing.discriminators):
            return False
        for k, (val, ext, tcode, iloc) in enumerate(unmatched):
            if not slice_matches(self, sl, base, val, tcode, iloc, ignore_profiles=True):
                continue
            why: list[ValidationIssue] = []
            self._value(val, ext, sl, tcode, iloc, why)
            if not any(i.is_error for i in why):
                return False
            del unmatched[k]
            sink.extend(why)
            return True
        return False

    # -- invariants ----------------------------------------------------------------------------
    def _constraints(self, checks: tuple[tuple[Constraint, Any], ...], node: Any, elem: Elem, tcode: str, loc: str,
                     sink: list[ValidationIssue], is_resource: bool, *, primitive: bool = False) -> None:
        """Evaluate the (constraint, evaluator) pairs of `Elem.checks` on one node."""
        for c, evaluate in checks:
            try:
                ok = evaluate(self, c, node, elem, tcode, is_resource, primitive)
            except EvalError as exc:
                sink.append(issue("information", "informational", loc, f"invariant {c.key} was not evaluated: the "
                                   f"FHIRPath engine could not run {c.expression!r} ({exc})", c.key, c.source))
                continue
            if not ok:
                sev = "error" if c.severity == "error" else "warning"
                if c.best_practice:  # the reference validator's best-practice level decides
                    level = self.settings.best_practice
                    if level == "ignore":
                        continue
                    sev = "information" if level == "hint" else level
                detail = ""
                if c.key == "dom-3" and isinstance(node, dict):
                    detail = f" (unreferenced: {', '.join(dom_3_unmatched(node))})"
                sink.append(issue(sev, "invariant", loc, f"Constraint failed: {c.key}: '{c.human}'{detail}",
                                   c.key, c.source))

    def _fhirpath(self, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
        res, _ = self.resources[-1] if self.resources else (node, "")
        root = self.resources[0][0] if self.resources else node
        # %rootResource is the resource that contains `res` (for contained resources), else res itself
        for r, _l in reversed(self.resources[:-1]):
            if isinstance(r.get("contained"), list) and any(x is res for x in r["contained"]):
                root = r
                break
        else:
            root = res
        fp = self.v.fhirpath
        fp.resolve_fn = lambda ref: (self._resolve(ref) or (None, ""))[0]
        fp.member_of_fn = self._member_of
        fp.conforms_fn = lambda r, url: self.conforms(r, url, "") if isinstance(r, dict) else None
        type_path = tcode if (tcode and (tcode[0].isupper() or primitive)) and tcode not in ("BackboneElement",
                                                                                          "Element") else elem.path
        if tcode in ("BackboneElement", "Element", ""):
            type_path = elem.path
        return fp.check(c, node, type_path, res, root)

    def _member_of(self, value: Any, vs: str) -> bool | None:
        return member_of(self, value, vs)

    # -- references ----------------------------------------------------------------------------
    def _resolve(self, ref: str) -> tuple[dict[str, Any], str] | None:
        return resolve(self, ref)

    def _profile_type(self, url: str) -> str | None:
        cs = self.v.structure(url)
        return cs.type if cs else None

    # -- extensions ----------------------------------------------------------------------------
    # -- bundle-level rules --------------------------------------------------------------------
