"""What to check on a value of one element with one type, decided once and cached on the element.

The walker meets the same (element, type) pair on every entry of every bundle: an
`Observation.code` CodeableConcept, a `Coding.system` uri. Which structure describes its
children, whether a fixed value, pattern, binding, reference or extension rule applies, which
invariants run: all of that depends on the definitions only, so `plan_for` works it out on first
use and the walker then only follows flags. Plans hang off the `Elem` of a compiled structure,
so they live exactly as long as the validator's compiled definitions (`add_resource` drops both).

A value's invariants come from its element, the structure its children are walked with, and the root of
its datatype's own StructureDefinition (`per-1` on Period, `qty-3` on Quantity...): snapshots -- HL7's,
SUSHI's, ours -- list an inline-constrained element's children but do not copy the datatype's root
invariants into the element, so `_datatype_checks` adds the ones nothing else lists (by key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.fhir.checks import checks_of, evaluator_for
from conformance.fhir.codegen import Pending
from conformance.fhir.primitives import PRIMITIVE_TYPES, QUICK_VALID
from conformance.fhir.structure import Constraint, Elem, Layout

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext as _Run

_RESOURCE_TYPES_ABSTRACT = frozenset({"Resource", "DomainResource"})
#: Quantity and its R4 specialisations (and the profiles of it used as type names)
QUANTITY_TYPES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity"})
_CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})
PRIMITIVE, RESOURCE, COMPLEX = 0, 1, 2
_RESOURCE_TYPE_KEY = frozenset({"resourceType"})


@dataclass(slots=True, eq=False)
class Plan:
    kind: int
    # primitives
    quick_valid: Callable[[Any], bool] | None = None
    max_length: int | None = None
    min_max: bool = False
    primitive_binding: bool = False
    checks: tuple[tuple[Any, Any], ...] = ()  # the element's invariants (with its container's, for complex types)
    trivial: bool = False  # a primitive with nothing to check but its JSON type and format
    # complex types
    container: Elem | None = None
    type_profile_roots: tuple[Elem, ...] = ()  # type profiles walked too, when the element has inline children
    binding: bool = False
    codes_known: bool = False
    attachment: bool = False
    quantity_bounds: bool = False
    quantity_unit: bool = False  # a Quantity (or Age, Duration...): its UCUM code must be a UCUM expression
    identifier: bool = False  # an Identifier: its value must suit its system (datatype_rules)
    reference_targets: tuple[str, ...] | None = None  # set for Reference values
    extension: bool = False  # an Extension without a type profile: resolve its definition by url
    missing_profiles: tuple[str, ...] = ()  # the element's type profiles, none of them loaded
    narrative: bool = False  # a Narrative whose element carries narrative language/source control
    text_links: bool = False  # a Narrative: its textLink extensions must point at ids that exist
    # both
    fixed_pattern: bool = False
    post: bool = False  # a complex value has rules after its properties (`Run._complex_rules`); set by plan_for


def plan_for(run: _Run, elem: Elem, tcode: str) -> Plan:
    """The cached plan for a value of `elem` with type `tcode`."""
    plans = elem.plans
    if plans is None:
        plans = elem.plans = {}
    plan = plans.get(tcode)
    if plan is None:
        plan = plans[tcode] = _build(run, elem, tcode)
        # any rule field of a complex value off its default -- whatever fields a later rule adds -- means rules
        # after its properties
        plan.post = plan.kind == COMPLEX and any(getattr(plan, f) != getattr(_DEFAULT, f)
                                                 for f in Plan.__slots__ if f not in _WALK_FIELDS)
    return plan


#: the Plan fields the walk itself uses; every other field set on a complex value's plan is a rule to run after
#: its properties
_DEFAULT = Plan(COMPLEX)
_WALK_FIELDS = frozenset({"kind", "quick_valid", "max_length", "min_max", "primitive_binding", "checks", "trivial",
                          "container", "post"})


def _build(run: _Run, elem: Elem, tcode: str) -> Plan:
    fixed_pattern = elem.fixed is not None or elem.pattern is not None
    if tcode in PRIMITIVE_TYPES:
        plan = Plan(PRIMITIVE, quick_valid=QUICK_VALID[tcode], max_length=elem.max_length,
                    min_max=elem.min_value is not None or elem.max_value is not None,
                    primitive_binding=elem.binding is not None and tcode in ("code", "string", "uri"),
                    checks=checks_of(elem, elem) if elem.constraints else (), fixed_pattern=fixed_pattern)
        plan.trivial = (tcode not in ("xhtml", "markdown") and plan.max_length is None and not plan.min_max and not plan.fixed_pattern
                        and not plan.primitive_binding and not plan.checks)
        return plan
    if tcode in _RESOURCE_TYPES_ABSTRACT or (tcode and tcode[0].isupper() and run._is_resource_type(tcode)):
        return Plan(RESOURCE, fixed_pattern=fixed_pattern)
    container, _ = run._structure_for(elem, tcode)
    profiles = tuple(p for t in elem.types if t.code == tcode for p in t.profiles) if tcode != "Extension" else ()
    missing = profiles if profiles and all(run.v.structure(p) is None for p in profiles) else ()
    roots: list[Elem] = []
    if elem.children:
        for t in elem.types:
            if t.code == tcode and t.profiles:
                cs = run.v.structure(t.profiles[0])
                if cs is not None:
                    roots.append(cs.root)
    return Plan(
        COMPLEX,
        container=container,
        checks=checks_of(elem, container) + _datatype_checks(run, elem, container, tcode, roots),
        type_profile_roots=tuple(roots),
        binding=elem.binding is not None and tcode in _CODED,
        # a CodeableConcept checks its codings itself (with its binding at hand): not each Coding again
        codes_known=tcode == "CodeableConcept" or (tcode == "Coding" and elem.base_path != "CodeableConcept.coding"),
        attachment=tcode == "Attachment",
        quantity_bounds=tcode == "Quantity" and bool(elem.min_value or elem.max_value),
        quantity_unit=tcode in QUANTITY_TYPES,
        identifier=tcode == "Identifier",
        reference_targets=tuple(p for t in elem.types if t.code == "Reference" for p in t.targets)
        if tcode == "Reference" else None,
        extension=tcode == "Extension" and not any(t.code == "Extension" and t.profiles for t in elem.types),
        fixed_pattern=fixed_pattern,
        missing_profiles=missing,
        narrative=tcode == "Narrative" and bool(elem.narrative_control),
        text_links=tcode == "Narrative",
    )


def _datatype_checks(run: _Run, elem: Elem, container: Elem, tcode: str,
                     roots: list[Elem]) -> tuple[tuple[Constraint, Any], ...]:
    """The invariants on the root of `tcode`'s own StructureDefinition that neither the element, the structure
    its children are walked with, nor a type profile walked beside it lists (a profile restating a key wins)."""
    cs = run.v.structure(tcode)
    if cs is None or cs.kind != "complex-type":
        return ()
    root = cs.root
    if root is container or root is elem or not root.constraints:
        return ()
    have = {c.key for e in (elem, container, *roots) for c in e.constraints}
    pairs = ((c, evaluator_for(c.key, c.expression)) for c in root.constraints if c.key not in have)
    return tuple((c, fn) for c, fn in pairs if fn is not None and c.key != "ele-1")


ARRAY, SINGLE, SLICED = 0, 1, 2  # how the fast loop of `Run._object` handles a child (see `_key_plan`)


def _key_plan(run: _Run, lay: Layout, key: str) -> tuple[str, Elem, str, Plan, int, Any] | None:
    """(key, child, type code, plan, mode, quick) for one JSON key of a container, kept in `Layout.key_plans`:
    mode SLICED (the walker's general `_child`), ARRAY or SINGLE; quick the plan's format predicate when that
    is all there is to check (a trivial primitive), else None. None for a key that is no child (resourceType)."""
    kp = lay.key_plans.get(key)
    if kp is None:
        m = lay.keymap.get(key)
        if m is None:
            return None
        child, tcode = m
        plan = plan_for(run, child, tcode)
        mode = SLICED if child.slicing is not None else ARRAY if child.is_array else SINGLE
        kp = lay.key_plans[key] = (key, child, tcode, plan, mode, plan.quick_valid if plan.trivial else None)
    return kp


_Shape = tuple[bool, bool, bool, "tuple[Any, ...] | None", bool, bool, Any]
_MAX_SHAPES = 512  # per container: key orders seen; past that (odd input), shapes are worked out per object


def shape_of(run: _Run, obj: dict[str, Any], lay: Layout, is_resource: bool) -> _Shape:
    """What `Run._object` needs to know about an object that depends only on its keys in order, kept per
    container in `Layout.shapes`: (is_resource, has an id, holds extensions, the key plans in key order -- None
    when the object needs the general `Run._properties` --, the object's own rules apply, every required child
    is present under its plain key, the walker of a regular shape that is kept (`codegen.Pending` until it is
    generated; else None)). Real documents repeat a few key orders per element: worked out once."""
    keys = obj.keys()
    regular = keys <= lay.keymap.keys() or (is_resource and keys - _RESOURCE_TYPE_KEY <= lay.keymap.keys())
    if regular and lay.choice_keys and not keys.isdisjoint(lay.choice_keys):
        present = keys & lay.choice_keys
        regular = len(present) < 2 or len({lay.keymap[k][0] for k in present}) == len(present)
    has_id = "id" in obj
    order = tuple(obj)
    kept = len(lay.shapes) < _MAX_SHAPES and order not in lay.shapes
    hosting = "extension" in obj or "modifierExtension" in obj
    kps = tuple(_key_plan(run, lay, k) for k in obj) if regular else None
    itself = is_resource or len(obj) <= has_id
    required_ok = lay.required_plain <= keys and not lay.required_other
    walker = Pending(lay, order, (kps, is_resource, has_id, hosting, itself, required_ok)) \
        if kps is not None and kept else None
    shape = (is_resource, has_id, hosting, kps, itself, required_ok, walker)
    if kept:
        lay.shapes[order] = shape
    return shape
