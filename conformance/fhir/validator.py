"""The FHIR R4 validator: walk an instance against compiled StructureDefinitions, collect issues.

One small method per rule kind (structure, cardinality, fixed/pattern, binding, slicing,
invariants, references, extensions); the location is built on the way down, FHIRPath-style
(`Bundle.entry[3].resource.code.coding[0]`). A `_Run` holds the state of one `validate()` call:
the issue list, the bundles and resources being walked (for reference resolution), and a memo
of (resource, profile) results so a resource reached through a slice discriminator, its
`meta.profile` and a reference target is validated once.

Speed: everything that depends only on the definitions is worked out once and cached on the
compiled elements -- per element the JSON key layout (`Elem.layout`), per (element, type) a
`plan.Plan` of which rules apply, per (element, container) the invariants with their evaluator
(`checks.evaluator_for`). The walk itself then only follows flags: an object whose properties are
all plain known children takes the fast loop in `_object`, where a primitive with nothing but a
format check costs no call. `benchmarks/validate.py` measures it against `orjson.loads`.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from conformance.fhir.context import CORE_SD, Definitions
from conformance.fhir.invariants import EvalError, FhirPath
from conformance.fhir.native import dom_3_unmatched
from conformance.fhir.packages import (
    Package,
    PackageInfo,
    find_package_folders,
    installed_user_packages,
    load_package,
    resource_bytes_from_file,
)
from conformance.fhir.plan import PRIMITIVE, RESOURCE, Plan, plan_for
from conformance.fhir.primitives import PRIMITIVE_TYPES, check_primitive, json_kind
from conformance.fhir.structure import CompiledStructure, Constraint, Elem, compile_structure
from conformance.fhir.terminology import NotExpandable, Terminology
from conformance.issues import ValidationIssue
from conformance.resources import fhir_packages_dir

SOURCE = "conformance.fhir"
_RESOURCE_TYPES_ABSTRACT = frozenset({"Resource", "DomainResource"})
_RESOURCE_TYPE_KEY = frozenset({"resourceType"})
_CROSS_VERSION = ("http://hl7.org/fhir/5.0/StructureDefinition/extension-", "http://hl7.org/fhir/4.3/StructureDefinition/",
                  "http://hl7.org/fhir/3.0/StructureDefinition/extension-", "http://hl7.org/fhir/1.0/StructureDefinition/")


class Validator:
    """Validates FHIR R4 JSON resources against the definitions of the loaded packages.

    `packages`: package folders / .tgz files (default: every package shipped under
    profiles/packages plus those installed with `conformance packages add`).
    `resources`: extra conformance resources (StructureDefinitions, ValueSets, CodeSystems) as dicts.
    """

    def __init__(self, packages: Sequence[str | os.PathLike[str] | Package] | None = None, *,
                 resources: Iterable[dict[str, Any]] = (), include_user_packages: bool = True,
                 include_shipped: bool | None = None) -> None:
        loaded: list[Package] = []
        if include_shipped is None:
            include_shipped = packages is None
        paths: list[Any] = []
        if include_shipped or packages is None:
            paths.extend(find_package_folders(fhir_packages_dir()))
        if packages:
            paths.extend(packages)
        if include_user_packages:
            paths.extend(installed_user_packages())
        extra: list[dict[str, Any]] = list(resources)
        for p in paths:
            if isinstance(p, Package):
                loaded.append(p)
                continue
            path = Path(p)
            if path.is_file() and path.suffix == ".json":  # a loose conformance resource or Bundle of them
                import orjson
                extra.extend(orjson.loads(b) for b in resource_bytes_from_file(path))
                continue
            loaded.append(load_package(path))
        if not any(p.name == "hl7.fhir.r4.core" for p in loaded):
            core = [f for f in find_package_folders(fhir_packages_dir()) if f.name == "hl7.fhir.r4.core"]
            loaded[:0] = [load_package(f) for f in core]
        self.defs = Definitions(loaded, extra)
        self.terminology = Terminology(self.defs)
        self.fhirpath = FhirPath()
        self._structures: dict[str, CompiledStructure | None] = {}
        self._mini: dict[str, Any] = {}
        self._target_types: dict[tuple[str, ...], frozenset[str]] = {}
        self._lock = threading.RLock()

    # -- public API ----------------------------------------------------------------------------
    @property
    def packages(self) -> list[PackageInfo]:
        return self.defs.package_infos

    def add_resource(self, resource: dict[str, Any]) -> None:
        """Register one more conformance resource (e.g. a profile a test brings along)."""
        with self._lock:
            self.defs.add_resource(resource)
            self._structures.clear()
            self._target_types.clear()
            self.terminology = Terminology(self.defs)

    def structure(self, url: str) -> CompiledStructure | None:
        """The compiled StructureDefinition for a canonical URL (or a core type name), or None."""
        hit = self._structures.get(url, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        sd = self.defs.snapshot(url if ("/" in url or ":" in url) else CORE_SD + url)
        cs = compile_structure(sd) if sd is not None else None
        self._structures[url] = cs
        return cs

    def target_types(self, targets: tuple[str, ...]) -> frozenset[str]:
        """The resource types a Reference with these target profiles may point to (cached)."""
        hit = self._target_types.get(targets)
        if hit is None:
            types = set()
            for t in targets:
                cs = self.structure(t)
                types.add((cs.type if cs else None) or t.rsplit("/", 1)[-1])
            hit = self._target_types[targets] = frozenset(types)
        return hit

    def minipath(self, expression: str) -> Any:
        """The native predicate for an invariant expression in the simple subset (cached), else None."""
        try:
            return self._mini[expression]
        except KeyError:
            from conformance.fhir.minipath import compile_minipath

            fn = self._mini[expression] = compile_minipath(expression)
            return fn

    def has_profile(self, url: str) -> bool:
        return self.defs.structure_definition(url) is not None

    def validate(self, resource: dict[str, Any], profiles: Iterable[str] = (), *,
                 location: str | None = None) -> list[ValidationIssue]:
        """Validate one resource (often a Bundle) against its base definition, the profiles it
        declares in meta.profile, and `profiles`. Returns the issues, errors first."""
        with self._lock:
            run = _Run(self)
            if not isinstance(resource, dict):
                return [_issue("fatal", "structure", location or "", f"expected a JSON object (a FHIR resource), "
                               f"found {json_kind(resource)}", "structure.not-a-resource")]
            rt = resource.get("resourceType")
            loc = location or (rt if isinstance(rt, str) else "$")
            run.resource(resource, loc, tuple(profiles), requested=True)
            return run.result()


def _issue(severity: str, code: str, location: str, message: str, rule: str, source: str = "") -> ValidationIssue:
    return ValidationIssue(severity, code, location, message, rule, source or SOURCE)  # type: ignore[arg-type]


_default: Validator | None = None
_default_lock = threading.Lock()


def default_validator() -> Validator:
    """The process-wide validator over the shipped packages and the user's installed packages."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Validator()
        return _default


def reset_default_validator() -> None:
    global _default
    with _default_lock:
        _default = None


class _BundleIndex:
    """fullUrl / type-id lookup over one Bundle's entries, for reference resolution."""

    def __init__(self, bundle: dict[str, Any], loc: str) -> None:
        self.bundle = bundle
        self.type = bundle.get("type")
        self.by_url: dict[str, tuple[dict[str, Any], str]] = {}
        self.by_type_id: dict[str, tuple[dict[str, Any], str]] = {}
        self.entry_of: dict[int, tuple[str | None, str]] = {}  # id(resource) -> (fullUrl, loc)
        entries = bundle.get("entry")
        if not isinstance(entries, list):
            return
        for i, e in enumerate(entries):
            if not isinstance(e, dict):
                continue
            res = e.get("resource")
            if not isinstance(res, dict):
                continue
            rloc = f"{loc}.entry[{i}].resource"
            fu = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
            if fu:
                self.by_url.setdefault(fu, (res, rloc))
            rt, rid = res.get("resourceType"), res.get("id")
            if isinstance(rt, str) and isinstance(rid, str):
                self.by_type_id.setdefault(f"{rt}/{rid}", (res, rloc))
            self.entry_of[id(res)] = (fu, rloc)

    def resolve(self, ref: str, from_resource: dict[str, Any] | None) -> tuple[dict[str, Any], str] | None:
        hit = self.by_url.get(ref)
        if hit:
            return hit
        if "/_history/" in ref:
            hit = self.resolve(ref.split("/_history/")[0], from_resource)
            if hit:
                return hit
        if ref.startswith(("urn:", "#")):
            return None
        if "://" not in ref:
            # relative: against the base of the referring entry's fullUrl, then by type/id
            if from_resource is not None:
                fu = self.entry_of.get(id(from_resource), (None, ""))[0]
                if fu and "://" in fu:
                    parts = fu.rstrip("/").split("/")
                    if len(parts) >= 2:
                        base = "/".join(parts[:-2])
                        hit = self.by_url.get(f"{base}/{ref}")
                        if hit:
                            return hit
            return self.by_type_id.get(ref)
        # absolute: Type/id at the end may still match an entry without a matching fullUrl
        parts = ref.rstrip("/").split("/")
        if len(parts) >= 2:
            tid = f"{parts[-2]}/{parts[-1]}"
            hit = self.by_type_id.get(tid)
            if hit is not None:
                fu = self.entry_of.get(id(hit[0]), (None, ""))[0]
                if fu is None or not fu.startswith("urn:"):
                    return hit
        return None


class _Run:
    """State of one validate() call."""

    def __init__(self, v: Validator) -> None:
        self.v = v
        self.issues: list[ValidationIssue] = []
        self.memo: dict[tuple[int, str], list[ValidationIssue]] = {}
        self.bundles: list[_BundleIndex] = []
        self.resources: list[tuple[dict[str, Any], str]] = []  # (resource, loc) stack
        self.conform_memo: dict[tuple[int, str], bool] = {}
        self.active: set[tuple[int, str]] = set()
        self.hosts: list[tuple[Elem, str]] = []  # (element, type) of the objects being walked, for extension contexts

    # -- results -------------------------------------------------------------------------------
    def result(self) -> list[ValidationIssue]:
        seen: set[tuple[str, str, str, str]] = set()
        out: list[ValidationIssue] = []
        for i in self.issues:
            key = (i.severity, i.location, i.rule, i.message)
            if key not in seen:
                seen.add(key)
                out.append(i)
        order = {"fatal": 0, "error": 1, "warning": 2, "information": 3}
        out.sort(key=lambda i: order.get(i.severity, 9))
        return out

    # -- resources -----------------------------------------------------------------------------
    def resource(self, res: dict[str, Any], loc: str, extra_profiles: tuple[str, ...] = (), *,
                 requested: bool = False, out: list[ValidationIssue] | None = None) -> None:
        """Validate a resource against base + meta.profile + extra profiles."""
        sink = self.issues if out is None else out
        rt = res.get("resourceType")
        if not isinstance(rt, str):
            sink.append(_issue("error", "structure", loc, "resource has no resourceType; it cannot be validated",
                               "structure.resource-type"))
            return
        base = self.v.structure(rt)
        if base is None or base.kind != "resource" or base.derivation != "specialization":
            sink.append(_issue("error", "structure", loc, f"unknown resource type {rt!r}" + _did_you_mean(
                rt, [u.rsplit('/', 1)[1] for u in self.v.defs.urls() if u.startswith(CORE_SD) and u[len(CORE_SD):][:1]
                     .isupper()]), "structure.resource-type"))
            return
        structures: list[CompiledStructure] = []
        meta = res.get("meta")
        declared = meta.get("profile") if isinstance(meta, dict) else None
        urls: list[tuple[str, str]] = [(u, "declared") for u in declared if isinstance(u, str)] \
            if isinstance(declared, list) else []
        urls += [(u, "requested" if requested else "slice") for u in extra_profiles]
        seen_urls = set()
        for url, why in urls:
            if url in seen_urls:
                continue
            seen_urls.add(url)
            cs = self.v.structure(url)
            if cs is None:
                if why == "declared":
                    sink.append(_issue("warning", "not-found", f"{loc}.meta.profile",
                                       f"profile {url} is not in the loaded packages, so the resource was not checked "
                                       "against it (hint: `conformance packages add` the package that defines it)",
                                       "profile.unknown"))
                else:
                    sink.append(_issue("error", "not-found", loc, f"profile {url} is not in the loaded packages "
                                       "(hint: `conformance packages add` the package that defines it)",
                                       "profile.unknown"))
                continue
            if cs.type != rt and cs.type not in _RESOURCE_TYPES_ABSTRACT:
                sink.append(_issue("error", "structure", loc, f"profile {url} constrains {cs.type}, not {rt}",
                                   "profile.wrong-type", url))
                continue
            structures.append(cs)
        if not any(s.type == rt for s in structures):
            structures.insert(0, base)
        self.resources.append((res, loc))
        pushed = False
        if rt == "Bundle":
            self.bundles.append(_BundleIndex(res, loc))
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
                    self._object(res, cs.root, cs.root, rt, loc, cached, is_resource=True)
                    self.active.discard(key)
                    self.memo[key] = cached
                sink.extend(cached)
            if rt == "Bundle":
                self._bundle_rules(res, loc, sink)
        finally:
            self.resources.pop()
            if pushed:
                self.bundles.pop()

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
        self.resource(res, loc, (url,), out=sub)
        ok = not any(i.is_error for i in sub)
        self.conform_memo[key] = ok
        return ok

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
                sink: list[ValidationIssue], *, is_resource: bool = False, host: Elem | None = None,
                checks: tuple[tuple[Constraint, Any], ...] | None = None) -> None:
        """Validate the properties of a JSON object against `container`'s children, then `elem`'s invariants
        (`checks`: `elem.checks(container)` when the caller has it at hand).

        The hot loop of the validator. When every property is a known child under its plain name (no `_x`)
        and no choice is present twice -- set operations on the key views decide that in C, and most objects
        of real documents pass -- each property is handled right here, and a primitive whose plan says
        "format check only" costs no call at all. Anything else goes through `_properties`."""
        self.hosts.append((host or elem, type_code))  # for extension contexts; popped below (errors end the run)
        lay = container.layout()
        keys = obj.keys()
        regular = keys <= lay.keymap.keys() or (is_resource and keys - _RESOURCE_TYPE_KEY <= lay.keymap.keys())
        if regular and lay.choice_keys and not keys.isdisjoint(lay.choice_keys):
            present = keys & lay.choice_keys
            regular = len(present) < 2 or len({lay.keymap[k][0] for k in present}) == len(present)
        if not regular:
            self._properties(obj, container, lay.keymap, loc, sink, is_resource)
        else:
            if is_resource or len(obj) <= ("id" in obj):
                self._object_itself(obj, loc, sink, is_resource)
            key_plans = lay.key_plans
            for key, val in obj.items():
                kp = key_plans.get(key)
                if kp is None:
                    m = lay.keymap.get(key)
                    if m is None:
                        continue  # a resource's resourceType
                    kp = key_plans[key] = (m[0], m[1], plan_for(self, m[0], m[1]))
                child, tcode, plan = kp
                if child.slicing is None:
                    if child.is_array:
                        if isinstance(val, list) and val:
                            n = len(val)
                            if n < child.min or (child.max is not None and n > child.max):
                                self._cardinality(child, n, loc, sink)
                            for i, v in enumerate(val):
                                if not (plan.trivial and plan.quick_valid(v)):  # type: ignore[misc]
                                    self._planned(v, None, child, tcode, plan, f"{loc}.{key}[{i}]", sink)
                            continue
                    elif not isinstance(val, list):
                        if child.max == 0:
                            self._cardinality(child, 1, loc, sink)
                        if not (plan.trivial and plan.quick_valid(val)):  # type: ignore[misc]
                            self._planned(val, None, child, tcode, plan, f"{loc}.{key}", sink)
                        continue
                self._child(child, [(key, val, None)], lay.keymap, loc, sink)
        if not lay.required_plain <= keys or lay.required_other:
            for child, child_keys in lay.required:
                if keys.isdisjoint(child_keys):
                    self._cardinality(child, 0, loc, sink)
        if checks is None:
            checks = elem.checks(container)
        if checks:
            self._constraints(checks, obj, elem, type_code, loc, sink, is_resource)
        self.hosts.pop()

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
            hint = lay.suggestions[key] = _did_you_mean(key, list(lay.keymap))
        return hint

    def _object_itself(self, obj: dict[str, Any], loc: str, sink: list[ValidationIssue], is_resource: bool) -> None:
        """Rules on the object as a whole: a resource's id, ele-1 for an element without content."""
        if is_resource:
            if "id" in obj:
                problem = check_primitive("id", obj["id"])
                if problem:
                    sink.append(_issue("error", "value", f"{loc}.id", f"invalid resource id: {problem}", "type.id"))
        elif len(obj) <= ("id" in obj):
            sink.append(_issue("error", "invariant", loc, "ele-1: All FHIR elements must have a @value or children "
                               "(this object is empty)", "ele-1"))

    def _properties(self, obj: dict[str, Any], container: Elem, km: dict[str, tuple[Elem, str]], loc: str,
                    sink: list[ValidationIssue], is_resource: bool) -> None:
        """The general case: unknown properties, `_x` primitive extensions, a choice under several keys.
        Properties are grouped per child element first (`x`, `_x` and the keys of a choice land together)."""
        groups: dict[Elem, list[tuple[str, Any, Any]]] = {}  # child -> [(json key, value, _value)]
        for key, val in obj.items():
            if is_resource and key == "resourceType":
                continue
            if key[:1] == "_":
                m = km.get(key[1:])
                if m is None or m[1] not in PRIMITIVE_TYPES:
                    sink.append(_issue("error", "structure", loc, f"Unrecognized property {key!r}: there is no "
                                       f"primitive {key[1:]!r} in {container.path}", "structure.unknown-element"))
                    continue
                entry = (key[1:], None, val)
            else:
                m = km.get(key)
                if m is None:
                    sink.append(_issue("error", "structure", loc, f"Unrecognized property {key!r} in "
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
            sink.append(_issue("error", "structure", f"{loc}.{child.name}[x]", "only one type of a choice element "
                               f"may be present, found {', '.join(sorted(by_key))}", "structure.choice"))
        items: list[tuple[Any, Any, str, str]] = []  # (value, ext, type code, location)
        for key, (val, ext) in by_key.items():
            tcode = km[key][1]
            if child.is_array:
                vals = val if val is not None else []
                exts = ext if ext is not None else []
                if val is not None and not isinstance(val, list):
                    sink.append(_issue("error", "structure", f"{loc}.{key}", f"{key} repeats, so it must be a JSON "
                                       f"array, found {json_kind(val)}", "structure.json-array"))
                    vals = [val]
                if ext is not None and not isinstance(ext, list):
                    sink.append(_issue("error", "structure", f"{loc}._{key}", f"_{key} must be a JSON array aligned "
                                       f"with {key}", "structure.json-array"))
                    exts = []
                if isinstance(val, list) and not val and ext is None:
                    sink.append(_issue("error", "structure", f"{loc}.{key}", "arrays must not be empty (omit the "
                                       "property instead)", "structure.empty-array"))
                n = max(len(vals), len(exts))
                for i in range(n):
                    items.append((vals[i] if i < len(vals) else None, exts[i] if i < len(exts) else None, tcode,
                                  f"{loc}.{key}[{i}]"))
            else:
                if isinstance(val, list) or isinstance(ext, list):
                    sink.append(_issue("error", "structure", f"{loc}.{key}", f"{key} does not repeat, so it must not "
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
            sink.append(_issue("error", "required", where, f"{child.path}: minimum required = {child.min}, but only "
                               f"found {count}" + _from(child), child.id, child.sd_url))
        if child.max is not None and count > child.max:
            if child.max == 0:
                msg = f"{child.path} is not allowed here (max = 0), found {count}"
            else:
                msg = f"{child.path}: max allowed = {child.max}, but found {count}"
            sink.append(_issue("error", "structure", where, msg + _from(child), child.id, child.sd_url))

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
            sink.append(_issue("error", "structure", loc, "null is not allowed here", "structure.null"))
            return
        if ext is not None:
            sink.append(_issue("error", "structure", loc, f"_ properties are only for primitive types, not {tcode}",
                               "structure.unknown-element"))
        if not isinstance(val, dict):
            sink.append(_issue("error", "structure", loc, f"expected a JSON object for {tcode}, found "
                               f"{json_kind(val)}", "structure.json-type"))
            return
        if plan.kind == RESOURCE:
            self._contained_resource(val, elem, loc, sink)
            return
        assert plan.container is not None
        self._object(val, elem, plan.container, tcode, loc, sink, checks=plan.checks)
        # type profile on an element that also has inline children: validate against the type profile too
        for root in plan.type_profile_roots:
            self._object(val, root, root, tcode, loc, sink)
        if plan.fixed_pattern:
            self._fixed_pattern(val, elem, loc, sink)
        if plan.binding:
            self._binding(val, elem, tcode, loc, sink)
        if plan.codes_known:
            self._codes_known(val, tcode, loc, sink)
        if plan.attachment:
            _attachment_size(val, loc, sink)
        elif plan.quantity_bounds:
            self._quantity_bounds(val, elem, loc, sink)
        if plan.reference_targets is not None:
            self._reference(val, elem, plan.reference_targets, loc, sink)
        elif plan.extension:
            self._extension(val, elem, loc, sink)

    def _contained_resource(self, val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        """A resource inside an element (Bundle.entry.resource, contained, parameter): base + its profiles."""
        profiles = tuple(p for t in elem.types for p in t.profiles)
        if profiles:  # only the profiles for this resource type; several: it must conform to one of them
            rt = val.get("resourceType")
            profiles = tuple(p for p in profiles if self._profile_type(p) in (rt, None, "Resource"))
            if len(profiles) > 1:
                good = next((p for p in profiles if self.conforms(val, p, loc)), None)
                profiles = (good,) if good else profiles
        self.resource(val, loc, profiles, out=sink)
        self._fixed_pattern(val, elem, loc, sink)

    def _quantity_bounds(self, val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        v = val.get("value")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return
        for bound, op in ((elem.min_value, "min"), (elem.max_value, "max")):
            if bound is None or not isinstance(bound[1], dict):
                continue
            b = bound[1]
            bv = b.get("value")
            if not isinstance(bv, (int, float)) or (b.get("code") and val.get("code") and b["code"] != val["code"]):
                continue
            if (op == "min" and v < bv) or (op == "max" and v > bv):
                sink.append(_issue("error", "value", loc, f"value {v} is {'below the minimum' if op == 'min' else 'above the maximum'} allowed {bv} {b.get('code') or b.get('unit') or ''}".rstrip(), elem.id, elem.sd_url))

    def _is_resource_type(self, code: str) -> bool:
        cs = self.v.structure(code)
        return cs is not None and cs.kind == "resource"

    def _primitive(self, val: Any, ext: Any, elem: Elem, tcode: str, plan: Plan, loc: str,
                   sink: list[ValidationIssue]) -> None:
        if val is None and ext is None:
            sink.append(_issue("error", "structure", loc, "null is not allowed here (a null in an array needs a "
                               "matching _ extension object)", "structure.null"))
            return
        if val is not None:
            problem = None if plan.quick_valid(val) else check_primitive(tcode, val)  # type: ignore[misc]
            if problem:
                sink.append(_issue("error", "value" if isinstance(val, str) else "structure", loc, problem,
                                   f"type.{tcode}"))
            elif tcode == "xhtml":
                from conformance.fhir.xhtml import check_xhtml
                for p in check_xhtml(val):
                    sink.append(_issue("error", "value", loc, p, "txt-1"))
            if plan.max_length is not None and isinstance(val, str) and len(val) > plan.max_length:
                sink.append(_issue("error", "value", loc, f"value is longer than maxLength {elem.max_length}",
                                   elem.id, elem.sd_url))
            if plan.min_max:
                self._min_max(val, elem, loc, sink)
        if ext is not None:
            if not isinstance(ext, dict):
                sink.append(_issue("error", "structure", loc, f"the _ object of a primitive must be a JSON object, "
                                   f"found {json_kind(ext)}", "structure.json-type"))
            else:
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

    def _min_max(self, val: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        for bound, op in ((elem.min_value, "min"), (elem.max_value, "max")):
            if bound is None:
                continue
            b = bound[1]
            try:
                bad = (val < b) if op == "min" else (val > b)
            except TypeError:
                continue
            if bad:
                sink.append(_issue("error", "value", loc, f"value {val!r} is {'below the minimum' if op == 'min' else 'above the maximum'} {b!r}", elem.id, elem.sd_url))

    # -- fixed / pattern -----------------------------------------------------------------------
    def _fixed_pattern(self, val: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        if elem.fixed is not None and not _equal(val, elem.fixed[1]):
            _fixed_diff(val, elem.fixed[1], elem, loc, sink)
        if elem.pattern is not None and not _matches_pattern(val, elem.pattern[1]):
            sink.append(_issue("error", "value", loc, f"value must match the pattern {_short(elem.pattern[1])} "
                               f"(from {elem.id}), found {_short(val)}", elem.id, elem.sd_url))

    # -- terminology ---------------------------------------------------------------------------
    def _binding(self, val: Any, elem: Elem, tcode: str, loc: str, sink: list[ValidationIssue]) -> None:
        strength, vs_url = elem.binding  # type: ignore[misc]
        if strength not in ("required", "extensible", "preferred") or not vs_url:
            return
        codes: list[tuple[str | None, str]] = []
        if tcode in ("code", "string", "uri"):
            if isinstance(val, str):
                codes = [(None, val)]
        elif tcode == "Coding":
            if isinstance(val.get("code"), str):
                codes = [(val.get("system"), val["code"])]
        elif tcode == "CodeableConcept":
            for c in _list(val.get("coding")):
                if isinstance(c, dict) and isinstance(c.get("code"), str):
                    codes.append((c.get("system"), c["code"]))
        elif tcode == "Quantity":
            if isinstance(val.get("code"), str):
                codes = [(val.get("system"), val["code"])]
            else:
                return
        severity = {"required": "error", "extensible": "warning", "preferred": "information"}[strength]
        vs_name = vs_url.partition("|")[0]
        if not codes:
            if strength == "required" and tcode == "CodeableConcept":
                sink.append(_issue("error", "code-invalid", loc, f"No code provided, and a code is required from the "
                                   f"value set {vs_name}", elem.id, elem.sd_url))
            return
        exp = self.v.terminology.expand(vs_url)
        if isinstance(exp, NotExpandable):
            if self.v.defs.get(vs_url) is None and strength == "required":
                sink.append(_issue("warning", "not-found", loc, f"ValueSet {vs_name} is not in the loaded packages, so "
                                   "the required binding was not checked", elem.id, elem.sd_url))
            elif strength in ("required", "extensible"):
                sink.append(_issue("information", "informational", loc, f"{strength} binding to {vs_name} not "
                                   f"checked offline: {exp.reason}", "terminology.not-checked-offline", elem.sd_url))
            return
        for system, code in codes:
            if (isinstance(system, str) and (system, code) in exp.codes) if system is not None \
                    else code in exp.bare_codes:
                return
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in codes)
        sink.append(_issue(severity, "code-invalid", loc, f"the code {shown} is not in the {strength} value set "
                           f"{vs_name}" + (" (the code must come from this value set)" if strength == "required"
                                           else ""), elem.id, elem.sd_url))

    def _codes_known(self, val: dict[str, Any], tcode: str, loc: str, sink: list[ValidationIssue]) -> None:
        codings = [val] if tcode == "Coding" else [c for c in _list(val.get("coding")) if isinstance(c, dict)]
        for i, c in enumerate(codings):
            code, system = c.get("code"), c.get("system")
            if isinstance(code, str) and isinstance(system, str):
                problem = self.v.terminology.check_code(system, code)
                if problem:
                    where = loc if tcode == "Coding" else f"{loc}.coding[{i}]"
                    sink.append(_issue("error", "code-invalid", where, problem, "terminology.unknown-code"))

    # -- slicing -------------------------------------------------------------------------------
    def _sliced(self, base: Elem, items: list[tuple[Any, Any, str, str]], loc: str,
                sink: list[ValidationIssue]) -> None:
        from conformance.fhir.slicing import slice_matches

        slicing = base.slicing
        assert slicing is not None
        counts = [0] * len(base.slices)
        last_index = -1
        for val, ext, tcode, iloc in items:
            match = None
            for si, sl in enumerate(base.slices):
                if slice_matches(self, sl, base, val, tcode, iloc):
                    match = si
                    break
            if match is None:
                if slicing.rules == "closed":
                    sink.append(_issue("error", "structure", iloc, f"this element does not match any known slice of "
                                       f"{base.id} and the slicing is closed"
                                       f" (slices: {', '.join(s.slice_name or '?' for s in base.slices)})",
                                       base.id, base.sd_url))
                # a profile-discriminated slice whose other discriminators match (e.g. the type): validate
                # against it anyway, so the report says why the element is not the slice member it looks like
                near = next((sl for sl in base.slices if any(d == "profile" for d, _p in slicing.discriminators)
                             and slice_matches(self, sl, base, val, tcode, iloc, ignore_profiles=True)), None)
                self._value(val, ext, near or base, tcode, iloc, sink)
                continue
            if slicing.ordered and match < last_index:
                sink.append(_issue("error", "structure", iloc, f"slices of {base.id} are ordered; slice "
                                   f"{base.slices[match].slice_name} appears after "
                                   f"{base.slices[last_index].slice_name}", base.id, base.sd_url))
            last_index = max(last_index, match)
            counts[match] += 1
            sl = base.slices[match]
            self._value(val, ext, sl, tcode, iloc, sink)
        for sl, n in zip(base.slices, counts):
            if n < sl.min:
                sink.append(_issue("error", "required", loc, f"slice {sl.id}: minimum required = "
                                   f"{sl.min}, but only found {n}" + _from(sl), sl.id, sl.sd_url))
            if sl.max is not None and n > sl.max:
                sink.append(_issue("error", "structure", loc, f"slice {sl.id}: max allowed = "
                                   f"{sl.max}, but found {n}" + _from(sl), sl.id, sl.sd_url))

    # -- invariants ----------------------------------------------------------------------------
    def _constraints(self, checks: tuple[tuple[Constraint, Any], ...], node: Any, elem: Elem, tcode: str, loc: str,
                     sink: list[ValidationIssue], is_resource: bool, *, primitive: bool = False) -> None:
        """Evaluate the (constraint, evaluator) pairs of `Elem.checks` on one node."""
        for c, evaluate in checks:
            try:
                ok = evaluate(self, c, node, elem, tcode, is_resource, primitive)
            except EvalError as exc:
                sink.append(_issue("information", "informational", loc, f"invariant {c.key} was not evaluated: the "
                                   f"FHIRPath engine could not run {c.expression!r} ({exc})", c.key, c.source))
                continue
            if not ok:
                sev = "error" if c.severity == "error" else "warning"
                detail = ""
                if c.key == "dom-3" and isinstance(node, dict):
                    detail = f" (unreferenced: {', '.join(dom_3_unmatched(node))})"
                sink.append(_issue(sev, "invariant", loc, f"Constraint failed: {c.key}: '{c.human}'{detail}",
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
        exp = self.v.terminology.expand(vs)
        if isinstance(exp, NotExpandable):
            return None
        if isinstance(value, str):
            return value in exp.bare_codes
        if isinstance(value, dict):
            codings = _list(value.get("coding")) if "coding" in value else [value]
            for c in codings:
                if isinstance(c, dict) and _hashable(c.get("system")) and _hashable(c.get("code")) \
                        and (c.get("system"), c.get("code")) in exp.codes:
                    return True
            return False
        return None

    # -- references ----------------------------------------------------------------------------
    def _resolve(self, ref: str) -> tuple[dict[str, Any], str] | None:
        if ref.startswith("#"):
            res = self._current_container()
            if res is None:
                return None
            if ref == "#":
                return res, ""
            for c in res.get("contained") or ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c, ""
            return None
        current = self.resources[-1][0] if self.resources else None
        for b in reversed(self.bundles):
            # find the entry resource that holds the current one
            holder = current
            for r, _l in reversed(self.resources):
                if id(r) in b.entry_of:
                    holder = r
                    break
            hit = b.resolve(ref, holder)
            if hit is not None:
                return hit
        return None

    def _current_container(self) -> dict[str, Any] | None:
        """The resource whose `contained` a '#id' reference points into (the outermost non-entry one)."""
        if not self.resources:
            return None
        res = self.resources[-1][0]
        for r, _l in reversed(self.resources[:-1]):
            if isinstance(r.get("contained"), list) and any(x is res for x in r["contained"]):
                res = r
            else:
                break
        return res

    def _reference(self, val: dict[str, Any], elem: Elem, targets: tuple[str, ...], loc: str,
                   sink: list[ValidationIssue]) -> None:
        ref = val.get("reference")
        if not isinstance(ref, str):
            return
        hit = self._resolve(ref)
        if hit is None:
            if ref.startswith("#"):
                sink.append(_issue("error", "invariant", f"{loc}", f"Constraint failed: ref-1: 'SHALL have a contained "
                                   f"resource if a local reference is provided' (no contained resource with id "
                                   f"{ref[1:]!r})", "ref-1"))
                return
            in_bundle = self.bundles[-1] if self.bundles else None
            if in_bundle is not None and (ref.startswith(("urn:uuid:", "urn:oid:")) or in_bundle.type in ("document", "message")):
                sev = "error" if (in_bundle.type in ("document", "message") or ref.startswith("urn:")) else "warning"
                sink.append(_issue(sev, "not-found", f"{loc}.reference", f"the reference {ref!r} does not resolve to "
                                   f"any entry in the {in_bundle.type or ''} Bundle (hint: add the referenced "
                                   "resource as an entry whose fullUrl matches)", "reference.unresolved"))
            elif in_bundle is None and ref.startswith("urn:uuid:"):
                sink.append(_issue("warning", "not-found", f"{loc}.reference", f"the reference {ref!r} is a urn:uuid "
                                   "that cannot resolve outside a Bundle", "reference.unresolved"))
            tgt_type = _type_of_reference(ref)
            if tgt_type and targets:
                self._check_target_type(tgt_type, targets, loc, sink)
            return
        target, tloc = hit
        rt = target.get("resourceType")
        if not targets or not isinstance(rt, str):
            return
        if not self._check_target_type(rt, targets, loc, sink):
            return
        profiles = [t for t in targets if not t.startswith(CORE_SD)]
        base_ok = any(t == CORE_SD + rt or t == CORE_SD + "Resource" for t in targets)
        if profiles and not base_ok and tloc and not any(
                self.conforms(target, p, tloc) for p in profiles if self._profile_type(p) in (rt, None)):
            sink.append(_issue("error", "structure", loc, f"the referenced {rt} ({ref}) does not conform to any "
                               f"of the target profiles {', '.join(profiles)}", elem.id, elem.sd_url))

    def _profile_type(self, url: str) -> str | None:
        cs = self.v.structure(url)
        return cs.type if cs else None

    def _check_target_type(self, rt: str, targets: tuple[str, ...], loc: str, sink: list[ValidationIssue]) -> bool:
        allowed = self.v.target_types(targets)
        if rt in allowed or "Resource" in allowed or "DomainResource" in allowed:
            return True
        sink.append(_issue("error", "structure", loc, f"the reference points to a {rt}, but only "
                           f"{', '.join(sorted(allowed))} are allowed here", "reference.target-type"))
        return False

    # -- extensions ----------------------------------------------------------------------------
    def _extension(self, val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        url = val.get("url")
        if not isinstance(url, str):
            return  # cardinality of url reports it
        if elem.path == "Extension.extension" and not url.startswith(("http:", "https:", "urn:")):
            return  # a sub-extension of a complex extension, named by a relative url (its slice checks it)
        if url.startswith(_CROSS_VERSION):
            sink.append(_issue("information", "informational", loc, f"cross-version extension {url} is not checked "
                               "offline", "extension.cross-version"))
            return
        cs = self.v.structure(url)
        if cs is None:
            if not url.startswith(("http:", "https:", "urn:")):
                sink.append(_issue("error", "structure", f"{loc}.url", f"extension url {url!r} must be an absolute "
                                   "URL", "extension.url"))
                return
            if url.startswith(("http://hl7.org/fhir/StructureDefinition/", "http://hl7.org/fhir/tools/")):
                sink.append(_issue("warning", "not-found", loc, f"the extension {url} is not in the loaded packages "
                                   "(an HL7 extension outside R4 core, e.g. from the extensions pack); not checked",
                                   "extension.unknown"))
                return
            sink.append(_issue("error", "structure", loc, f"the extension {url} is unknown, and not allowed here "
                               "(hint: load the package that defines it with `conformance packages add`)",
                               "extension.unknown"))
            return
        if cs.type != "Extension":
            sink.append(_issue("error", "structure", loc, f"{url} is a {cs.type} profile, not an extension definition",
                               "extension.unknown"))
            return
        self._object(val, cs.root, cs.root, "Extension", loc, sink)
        self._extension_context(cs, elem, loc, sink)

    def _extension_context(self, cs: CompiledStructure, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
        if not cs.context or not self.hosts:
            return
        host, host_type = self.hosts[-1]  # the object holding the extension
        candidates = {host.path, host.base_path, host_type, "Element", "Base"}
        if "." not in host.path:
            candidates |= {"Resource", "DomainResource"} if host.sd_url and self._is_resource_type(host_type) else set()
        if host_type == "Extension":
            candidates.add("Extension")
        for ctype, expr in cs.context:
            e = expr.strip()
            if ctype == "fhirpath":
                return  # FHIRPath contexts are not evaluated here; never reject on them
            if e in candidates:
                return
            if ctype == "extension" and host_type == "Extension":
                return
            if ctype == "element" and self.v.structure(e.split(".")[0]) is None:
                return  # a context type R4 does not have (e.g. R5 CanonicalResource): not decidable here
        allowed = ", ".join(e for _t, e in cs.context)
        where = host.base_path or host.path
        host_loc = loc.rsplit(".", 1)[0] if "." in loc else loc
        sink.append(_issue("error", "structure", host_loc, f"the extension {cs.url} is not allowed at {where} (allowed "
                           f"contexts: {allowed})", "extension.context", cs.url))

    # -- bundle-level rules --------------------------------------------------------------------
    def _bundle_rules(self, bundle: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
        entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
        if bundle.get("type") in ("document", "message"):
            for i, e in enumerate(entries):
                if isinstance(e, dict) and "resource" in e and "fullUrl" not in e:
                    sink.append(_issue("error", "required", f"{loc}.entry[{i}]", "every entry of a "
                                       f"{bundle.get('type')} Bundle needs a fullUrl", "bundle.fullurl"))
        links = bundle.get("link") if isinstance(bundle.get("link"), list) else []
        seen_rel: set[str] = set()
        for i, link in enumerate(links):
            rel = link.get("relation") if isinstance(link, dict) else None
            if isinstance(rel, str):
                if rel in seen_rel:
                    sink.append(_issue("error", "invalid", f"{loc}.link[{i}]", f"The link relationship type {rel!r} "
                                       "can only occur once", "bundle.link-unique"))
                seen_rel.add(rel)
        for i, e in enumerate(entries):
            if not isinstance(e, dict):
                continue
            fu, res = e.get("fullUrl"), e.get("resource")
            if isinstance(fu, str) and fu and ":" not in fu:
                sink.append(_issue("error", "invalid", f"{loc}.entry[{i}]", f"The fullUrl must be an absolute URL "
                                   f"(not {fu!r})", "bundle.fullurl-absolute"))
            if isinstance(fu, str) and isinstance(res, dict) and isinstance(res.get("id"), str) \
                    and "://" in fu and not fu.startswith("urn:"):
                rt, rid = res.get("resourceType"), res["id"]
                if not (fu.endswith(f"/{rt}/{rid}") or f"/{rt}/{rid}/_history/" in fu):
                    sink.append(_issue("error", "invalid", f"{loc}.entry[{i}]", f"the fullUrl {fu} does not match "
                                       f"the resource id {rt}/{rid}", "bundle.fullurl-id"))


def _list(value: Any) -> list[Any] | tuple[()]:
    """A JSON array property as a list; anything else (a wrong JSON type, reported elsewhere) as empty."""
    return value if isinstance(value, list) else ()


def _hashable(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _type_of_reference(ref: str) -> str | None:
    if ref.startswith(("urn:", "#")):
        return None
    parts = ref.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper() and parts[-2].isalpha():
        return parts[-2]
    return None


def _from(elem: Elem) -> str:
    return f" (from {elem.sd_url})" if elem.sd_url else ""


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: Any, limit: int = 120) -> str:
    import orjson
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def _matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern appears in the value, arrays by containment."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and _matches_pattern(value[k], pv) for k, pv in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            value = [value]
        return all(any(_matches_pattern(v, pv) for v in value) for pv in pattern)
    return _equal(value, pattern)


def _attachment_size(val: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    data, size = val.get("data"), val.get("size")
    if not isinstance(data, str) or not isinstance(size, int) or isinstance(size, bool):
        return
    import base64
    import binascii
    try:
        actual = len(base64.b64decode("".join(data.split()), validate=True))
    except (binascii.Error, ValueError):
        return
    if actual != size:
        sink.append(_issue("error", "structure", loc, f"Stated Attachment Size {size} does not match actual attachment "
                           f"size {actual}", "attachment.size"))


def _fixed_diff(val: Any, fixed: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """Report a fixed-value mismatch where it is: the differing or unexpected property, like the reference validator."""
    if isinstance(val, dict) and isinstance(fixed, dict):
        for k, fv in fixed.items():
            if k not in val:
                sink.append(_issue("error", "value", loc, f"missing {k!r}: the value must be exactly "
                                   f"{_short(fixed)} (fixed in {elem.id})", elem.id, elem.sd_url))
            elif not _equal(val[k], fv):
                _fixed_diff(val[k], fv, elem, f"{loc}.{k}", sink)
        for k in val:
            if k not in fixed:
                sink.append(_issue("error", "value", f"{loc}.{k}", f"unexpected {k!r}: the value must be exactly "
                                   f"{_short(fixed)} (fixed in {elem.id})", elem.id, elem.sd_url))
        return
    if isinstance(val, list) and isinstance(fixed, list) and len(val) == len(fixed):
        for i, (a, b) in enumerate(zip(val, fixed)):
            if not _equal(a, b):
                _fixed_diff(a, b, elem, f"{loc}[{i}]", sink)
        return
    sink.append(_issue("error", "value", loc, f"value must be exactly {_short(fixed)} (fixed in {elem.id}), found "
                       f"{_short(val)}", elem.id, elem.sd_url))
