"""Compile a StructureDefinition snapshot into a tree the validator walks quickly.

A snapshot is a flat list of ElementDefinitions; validation wants, for an object at hand, the
definitions of its children keyed by JSON property name, and for a sliced element its slices.
`compile_structure` builds that tree once per profile (ids give the nesting: `Bundle.entry:
composition.resource` is child `resource` of slice `composition` of `Bundle.entry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.fhir.primitives import PRIMITIVE_TYPES

FHIRPATH_SYSTEM = "http://hl7.org/fhirpath/System."


@dataclass(slots=True, frozen=True)
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str
    source: str
    best_practice: bool = False  # marked with the elementdefinition-bestpractice extension (e.g. dom-6)


@dataclass(slots=True)
class Slicing:
    discriminators: tuple[tuple[str, str], ...]  # (type, path)
    rules: str = "open"
    ordered: bool = False


@dataclass(slots=True, eq=False)
class Elem:
    """One ElementDefinition, with its children and slices."""

    sd_url: str
    id: str
    path: str
    name: str  # last path segment, '[x]' stripped
    min: int
    max: int | None  # None = '*'
    is_array: bool
    types: tuple[TypeRef, ...]
    is_choice: bool = False
    fixed: tuple[str, Any] | None = None  # (type suffix, value)
    pattern: tuple[str, Any] | None = None
    binding: tuple[str, str | None] | None = None  # (strength, valueSet)
    constraints: tuple[Constraint, ...] = ()
    slicing: Slicing | None = None
    slice_name: str | None = None
    content_ref: str | None = None
    max_length: int | None = None
    min_value: tuple[str, Any] | None = None
    max_value: tuple[str, Any] | None = None
    is_modifier: bool = False
    # ElementDefinition.mustHaveValue (R5, used in R4 through its extension): None, or the extension URLs
    # (valueAlternatives) that may stand in for the missing value of a primitive
    value_required: tuple[str, ...] | None = None
    # additional bindings (the R5 ElementDefinition.binding.additional, in R4 through its extension): (purpose, vs)
    additional_bindings: tuple[tuple[str, str], ...] = ()
    # narrative-language-control / narrative-source-control on a Narrative element: (("language"|"source", code),)
    narrative_control: tuple[tuple[str, str], ...] = ()
    # the aggregation modes of its Reference type (contained / referenced / bundled); () = any
    aggregation: tuple[str, ...] = ()
    short: str = ""
    base_path: str = ""
    children: dict[str, Elem] = field(default_factory=dict)
    slices: list[Elem] = field(default_factory=list)
    # JSON key -> (child, type code); built lazily by `keymap()`
    _keymap: dict[str, tuple[Elem, str]] | None = None
    # per-slice discriminator matchers, built lazily by the slicing module
    matchers: Any = None
    # (type code -> Plan) of what to check on a value of this element, built lazily by `plan.plan_for`
    plans: dict[str, Any] | None = None
    _required: tuple[Elem, ...] | None = None
    _layout: Layout | None = None
    _checks: dict[int, tuple[tuple[Constraint, Any], ...]] | None = None

    def required(self) -> tuple[Elem, ...]:
        """Children with min > 0 (checked even when absent)."""
        r = self._required
        if r is None:
            # a child with min > 0, or a sliced child one of whose slices is required (absent, the slice is missing)
            r = self._required = tuple(c for c in self.children.values()
                                       if c.min > 0 or any(sl.min > 0 for sl in c.slices))
        return r

    def layout(self) -> Layout:
        """The JSON-side facts about this element's children that the walker's fast path tests per object."""
        lay = self._layout
        if lay is None:
            km = self.keymap()
            choice_keys = frozenset(k for k, (child, _code) in km.items() if child.is_choice)
            # a required child is present under its JSON key(s), or as `_key` alone when it is a primitive
            required = tuple((child, tuple(k for key, (c, code) in km.items() if c is child
                                           for k in ((key, "_" + key) if code in PRIMITIVE_TYPES else (key,))))
                             for child in self.required())
            # fast test: every required child that has a single plain key present -> no cardinality check needed
            plain = frozenset(ks[0] for _c, ks in required if not _c.is_choice)
            other = any(c.is_choice for c, _ks in required)
            lay = self._layout = Layout(km, choice_keys, required, plain, other, {})
        return lay

    @property
    def type_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)

    def keymap(self) -> dict[str, tuple[Elem, str]]:
        """JSON property name -> (child definition, type code) for this element's children."""
        km = self._keymap
        if km is None:
            km = {}
            for name, child in self.children.items():
                if child.is_choice:
                    for t in child.types:
                        km[name + t.code[0].upper() + t.code[1:]] = (child, t.code)
                else:
                    code = child.types[0].code if len(child.types) == 1 else (child.types[0].code if child.types
                                                                                 else "")
                    km[name] = (child, code)
            self._keymap = km
        return km


@dataclass(slots=True, eq=False)
class Layout:
    """Per-element lookup tables for the walker (see `Elem.layout`)."""

    keymap: dict[str, tuple[Elem, str]]  # JSON key -> (child, type code)
    choice_keys: frozenset[str]  # JSON keys of choice children (valueString, valueQuantity...)
    required: tuple[tuple[Elem, tuple[str, ...]], ...]  # children with min > 0, JSON keys that make them present
    required_plain: frozenset[str]  # the plain JSON key of each required non-choice child
    required_other: bool  # some required child is a choice (its presence needs the per-child test)
    key_plans: dict[str, tuple[Any, ...]]  # JSON key -> (key, child, type code, Plan, ...), filled by the walker
    suggestions: dict[str, str] = field(default_factory=dict)  # unknown JSON key -> "did you mean" hint
    shapes: dict[tuple[str, ...], Any] = field(default_factory=dict)  # key order -> what the walker derives from it


@dataclass(slots=True, eq=False)
class CompiledStructure:
    url: str
    version: str
    name: str
    type: str
    kind: str
    derivation: str
    base: str | None
    abstract: bool
    root: Elem
    by_id: dict[str, Elem]
    context: tuple[tuple[str, str], ...] = ()  # extension contexts: (type, expression)
    context_invariants: tuple[str, ...] = ()


def _type_code(t: dict[str, Any]) -> str:
    code = t.get("code", "")
    if code.startswith(FHIRPATH_SYSTEM):
        for ext in t.get("extension") or ():
            if ext.get("url", "").endswith("structuredefinition-fhir-type"):
                return ext.get("valueUrl") or ext.get("valueUri") or "string"
        return {"String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal",
                "Date": "date", "DateTime": "dateTime", "Time": "time"}.get(code[len(FHIRPATH_SYSTEM):], "string")
    return code


def _prefixed(el: dict[str, Any], prefix: str) -> tuple[str, Any] | None:
    for k, v in el.items():
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return (k[len(prefix):], v)
    return None


def _max(value: str | None) -> int | None:
    if value is None or value == "*":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def make_elem(sd_url: str, el: dict[str, Any], eid: str) -> Elem:
    path = el.get("path", eid)
    last = path.rsplit(".", 1)[-1]
    is_choice = last.endswith("[x]")
    name = last[:-3] if is_choice else last
    base = el.get("base") or {}
    base_max = base.get("max", el.get("max", "1"))
    types = tuple(
        TypeRef(_type_code(t), tuple(t.get("profile") or ()), tuple(t.get("targetProfile") or ()))
        for t in el.get("type") or ()
    )
    binding = el.get("binding")
    slicing = el.get("slicing")
    return Elem(
        sd_url=sd_url,
        id=eid,
        path=path,
        name=name,
        min=int(el.get("min", 0) or 0),
        max=_max(el.get("max", "*")),
        is_array=base_max not in ("1", "0") or (base_max == "0" and el.get("max") not in ("1", "0")),
        types=types,
        is_choice=is_choice,
        fixed=_prefixed(el, "fixed"),
        pattern=_prefixed(el, "pattern"),
        binding=(binding.get("strength", "example"), _local_value_set(sd_url, binding.get("valueSet")))
        if binding else None,
        constraints=tuple(
            Constraint(c.get("key", "?"), c.get("severity", "error"), c.get("human", ""),
                       ERRATA.get((c.get("key", "?"), c.get("expression", "")), c.get("expression", "")),
                       c.get("source", sd_url), _best_practice(c))
            for c in el.get("constraint") or () if c.get("expression")
        ),
        slicing=Slicing(
            tuple((d.get("type", "value"), d.get("path", "$this")) for d in slicing.get("discriminator") or ()),
            slicing.get("rules", "open"),
            bool(slicing.get("ordered", False)),
        ) if slicing else None,
        slice_name=el.get("sliceName"),
        content_ref=el.get("contentReference"),
        max_length=el.get("maxLength"),
        min_value=_prefixed(el, "minValue"),
        max_value=_prefixed(el, "maxValue"),
        is_modifier=bool(el.get("isModifier", False)),
        value_required=_value_required(el),
        narrative_control=_narrative_control(el),
        aggregation=next((tuple(a for a in t["aggregation"] if isinstance(a, str)) for t in el.get("type") or ()
                          if isinstance(t.get("aggregation"), list) and _type_code(t) == "Reference"), ()),
        additional_bindings=_additional_bindings(sd_url, binding) if binding else (),
        short=el.get("short", ""),
        base_path=base.get("path", path),
    )


def _local_value_set(sd_url: str, vs: Any) -> Any:
    """A binding to a value set contained in the profile (`#vs`) names it `<profile url>#vs`, the form the
    definitions look contained resources up by."""
    return f"{sd_url.partition('|')[0]}{vs}" if isinstance(vs, str) and vs.startswith("#") else vs


def _synth_id(el: dict[str, Any], prev_ids: dict[str, str]) -> str:
    path = el.get("path", "")
    if el.get("sliceName"):
        return path + ":" + el["sliceName"]
    parent_path, _, last = path.rpartition(".")
    parent_id = prev_ids.get(parent_path, parent_path)
    return f"{parent_id}.{last}" if parent_id else path


def compile_structure(sd: dict[str, Any]) -> CompiledStructure:
    """Build the element tree of a StructureDefinition that has a snapshot."""
    url = sd.get("url", "")
    elements = (sd.get("snapshot") or {}).get("element") or []
    if not elements:
        raise ValueError(f"StructureDefinition {url} has no snapshot")
    by_id: dict[str, Elem] = {}
    last_by_path: dict[str, str] = {}  # path -> id of the most recent element with that path
    root: Elem | None = None
    for el in elements:
        eid = el.get("id") or _synth_id(el, last_by_path)
        elem = make_elem(url, el, eid)
        by_id[eid] = elem
        if root is None:
            root = elem
            last_by_path[elem.path] = eid
            continue
        parent_id, _, last = eid.rpartition(".")
        parent = by_id.get(parent_id)
        if parent is None:  # ids we cannot parse (dots in slice names): fall back to paths
            parent_path = elem.path.rpartition(".")[0]
            parent = by_id.get(last_by_path.get(parent_path, ""), root)
            last = elem.path.rpartition(".")[2] + (":" + elem.slice_name if elem.slice_name else "")
        name_part, sep, slice_part = last.partition(":")
        if sep:
            base_id = f"{parent.id}.{name_part}"
            if "/" in slice_part:
                base_id += ":" + slice_part.rsplit("/", 1)[0]
            base = by_id.get(base_id)
            if base is not None:
                base.slices.append(elem)
                if base.slicing is None and base.is_choice:
                    base.slicing = Slicing((("type", "$this"),), "open", False)
            else:
                parent.children[elem.name] = elem
        else:
            key = elem.name
            if not elem.is_choice and key not in parent.children:
                # old-style renamed choice (`Observation.valueQuantity`): a type slice of value[x]
                for cname, c in parent.children.items():
                    if c.is_choice and key.startswith(cname) and key[len(cname):][:1].isupper():
                        elem.slice_name = key
                        c.slices.append(elem)
                        if c.slicing is None:
                            c.slicing = Slicing((("type", "$this"),), "open", False)
                        break
                else:
                    parent.children[key] = elem
            elif key in parent.children and parent.children[key].path != elem.path:
                parent.children[key] = elem
            else:
                parent.children.setdefault(key, elem)
        last_by_path[elem.path] = eid
    assert root is not None
    ctx = tuple((c.get("type", "element"), c.get("expression", "")) for c in sd.get("context") or ())
    return CompiledStructure(
        url=url,
        version=str(sd.get("version", "")),
        name=sd.get("name", ""),
        type=sd.get("type", root.path),
        kind=sd.get("kind", ""),
        derivation=sd.get("derivation", "specialization"),
        base=sd.get("baseDefinition"),
        abstract=bool(sd.get("abstract", False)),
        root=root,
        by_id=by_id,
        context=ctx,
        context_invariants=tuple(sd.get("contextInvariant") or ()),
    )


def is_primitive(code: str) -> bool:
    return code in PRIMITIVE_TYPES


_BEST_PRACTICE = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"

#: R4 4.0.1 invariants whose expression contradicts their own human text, as published in the R4 technical
#: errata and as the reference validator evaluates them: (key, published expression) -> corrected expression.
ERRATA = {
    # que-12 "If there are more than one enableWhen, enableBehavior must be specified": 4.0.1 says > 2
    ("que-12", "enableWhen.count() > 2 implies enableBehavior.exists()"):
        "enableWhen.count() > 1 implies enableBehavior.exists()",
}


def _best_practice(constraint: dict[str, Any]) -> bool:
    return any(isinstance(e, dict) and e.get("url") == _BEST_PRACTICE and e.get("valueBoolean") is True
               for e in constraint.get("extension") or ())


_ADDITIONAL_BINDING = ("http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
                       "http://hl7.org/fhir/tools/StructureDefinition/additional-binding")


#: the R4 maxValueSet extension: no code may come from outside that value set (checked as a required binding)
MAX_VALUE_SET = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet"
MAX_VALUE_SET_PURPOSE = "max-value-set"


def _additional_bindings(sd_url: str, binding: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(purpose, value set) of each additional binding that applies everywhere (one with a usage context
    is left out: where it applies is not the validator's to judge here), and of the maxValueSet."""
    out = []
    for e in binding.get("extension") or ():
        if isinstance(e, dict) and e.get("url") == MAX_VALUE_SET and isinstance(e.get("valueCanonical"), str):
            out.append((MAX_VALUE_SET_PURPOSE, _local_value_set(sd_url, e["valueCanonical"])))
        if not isinstance(e, dict) or e.get("url") not in _ADDITIONAL_BINDING:
            continue
        parts = {p.get("url"): p for p in e.get("extension") or () if isinstance(p, dict)}
        purpose = (parts.get("purpose") or {}).get("valueCode")
        vs = (parts.get("valueSet") or {}).get("valueCanonical")
        if isinstance(purpose, str) and isinstance(vs, str) and "usage" not in parts:
            out.append((purpose, _local_value_set(sd_url, vs)))
    return tuple(out)


_NARRATIVE_CONTROL = {"http://hl7.org/fhir/StructureDefinition/narrative-language-control": "language",
                      "http://hl7.org/fhir/StructureDefinition/narrative-source-control": "source"}


def _narrative_control(el: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((_NARRATIVE_CONTROL[e["url"]], e["valueCode"]) for e in el.get("extension") or ()
                 if isinstance(e, dict) and e.get("url") in _NARRATIVE_CONTROL and isinstance(e.get("valueCode"), str))


def _value_required(el: dict[str, Any]) -> tuple[str, ...] | None:
    """None, or the valueAlternatives of an element whose definition says a primitive must have a value
    (the R5 mustHaveValue, carried in R4 by its extension)."""
    must = False
    alternatives: list[str] = []
    for e in el.get("extension") or ():
        if not isinstance(e, dict) or not isinstance(e.get("url"), str):
            continue
        tail = e["url"].rsplit("-", 1)[-1].rsplit("/", 1)[-1]
        if tail.endswith("mustHaveValue") and e.get("valueBoolean") is True:
            must = True
        elif tail.endswith("valueAlternatives") and isinstance(e.get("valueCanonical"), str):
            alternatives.append(e["valueCanonical"])
    if el.get("mustHaveValue") is True:
        must = True
    alternatives += [a for a in el.get("valueAlternatives") or () if isinstance(a, str)]
    return tuple(alternatives) if must else None
