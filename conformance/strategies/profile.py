"""``from_profile(url)``: hypothesis strategies for instances of a StructureDefinition.

Why: checks should hold for *every* valid instance a profile allows, not for a handful of
fixtures. The generator walks the profile's snapshot (as compiled by :mod:`conformance.fhir`):

* cardinality: required elements always, optional ones sometimes (shallow only, so instances
  stay small and shrink to the minimum the profile demands);
* types: one type per choice element, complex types through their own StructureDefinition,
  primitives matching the R4 regexes;
* fixed and pattern values are used as given (patterns are completed with required children);
* slices: every required slice is generated from its own definition (so it matches its
  discriminator); open slicing may add unsliced items;
* codes: required bindings are drawn from the locally expanded ValueSet; a required binding
  that cannot be expanded offline makes the element unconstructible (filtered, never faked); an element
  a maximum value set limits draws from its own value set when that one expands;
* references: to resources the caller says exist (``references={"Patient": ["urn:uuid:..."]}``
  inside a document Bundle), else ``Type/id`` literals of an allowed target type.

Invariants are not solved: each instance is validated with the engine and instances with
errors are filtered out (``hypothesis.reject``). So every instance the strategy yields validates
with zero errors; :func:`generation_stats` tells how many had to be filtered and by which rule,
which the tests keep low (a generator that filters most of its output is a broken generator).
"""

from __future__ import annotations

import base64
import copy
import string
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from conformance.errors import UsageError
from conformance.strategies.repairs import REPAIRS

Draw = Callable[[st.SearchStrategy[Any]], Any]

#: Optional children never generated (bookkeeping, or recursive containers of anything).
SKIP_OPTIONAL = frozenset({"id", "extension", "modifierExtension", "meta", "implicitRules", "language",
                           "contained", "text"})
#: Optional elements are generated down to this depth (0 = the resource's own elements).
OPTIONAL_DEPTH = 1
#: Hard limit: a required chain deeper than this is unconstructible.
MAX_DEPTH = 10

_LETTERS = string.ascii_letters + "ÄÖÜäöüßéèçñøåłžčěšđ"
_WORD = st.text(alphabet=_LETTERS + string.digits, min_size=1, max_size=10)
_TEXT = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
_STATS: dict[str, Counter[str]] = {}
_STATS_LOCK = threading.Lock()


def generation_stats(url: str | None = None) -> dict[str, Any]:
    """Counters per profile: ``built`` (instances constructed), ``rejected`` (filtered because the
    engine found errors) and ``rule:<rule>`` (which rules the filtered ones broke)."""
    with _STATS_LOCK:
        if url is not None:
            return dict(_STATS.get(url, Counter()))
        return {k: dict(v) for k, v in _STATS.items()}


def _count(url: str, key: str) -> None:
    with _STATS_LOCK:
        _STATS.setdefault(url, Counter())[key] += 1


# ---- primitives ------------------------------------------------------------------------------

def _dates() -> st.SearchStrategy[date]:
    return st.dates(date(1950, 1, 1), date(2030, 12, 31))


def _date_text(draw: Draw) -> str:
    d = draw(_dates())
    precision = draw(st.sampled_from(("day", "month", "year")))
    return {"day": d.isoformat(), "month": d.isoformat()[:7], "year": d.isoformat()[:4]}[precision]


def _instant_text(draw: Draw) -> str:
    d = draw(_dates())
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    tz = draw(st.sampled_from(("Z", "+01:00", "+02:00", "-05:00")))
    return f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}{tz}"


def _primitive(draw: Draw, tcode: str, elem: Any) -> Any:
    lo = elem.min_value[1] if elem.min_value else None
    hi = elem.max_value[1] if elem.max_value else None
    if tcode == "boolean":
        return draw(st.booleans())
    if tcode in ("integer", "positiveInt", "unsignedInt"):
        low = {"integer": -1000, "positiveInt": 1, "unsignedInt": 0}[tcode]
        return draw(st.integers(max(low, lo) if isinstance(lo, int) else low,
                                min(1000, hi) if isinstance(hi, int) else 1000))
    if tcode == "decimal":
        return draw(st.integers(0, 100000)) / 100
    if tcode in ("string", "markdown"):
        text = draw(_TEXT)
        return text[: elem.max_length] if elem.max_length else text
    if tcode == "code":
        return draw(st.from_regex(r"[a-z][a-z0-9\-]{0,11}", fullmatch=True))
    if tcode == "id":
        return draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-.]{0,15}", fullmatch=True))
    if tcode in ("uri", "url", "canonical"):
        tail = draw(st.from_regex(r"[a-z][a-z0-9\-]{0,11}", fullmatch=True))
        return f"https://example.org/{tail}" if tcode != "uri" or draw(st.booleans()) else f"urn:uuid:{_uuid(draw)}"
    if tcode == "oid":
        return f"urn:oid:2.999.{draw(st.integers(1, 10**6))}"
    if tcode == "uuid":
        return f"urn:uuid:{_uuid(draw)}"
    if tcode == "date":
        return _date_text(draw)
    if tcode == "dateTime":
        return _instant_text(draw) if draw(st.booleans()) else _date_text(draw)
    if tcode == "instant":
        return _instant_text(draw)
    if tcode == "time":
        return f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:00"
    if tcode == "base64Binary":
        return base64.b64encode(draw(st.binary(min_size=1, max_size=24))).decode()
    if tcode == "xhtml":
        return _div(draw(_TEXT))
    reject()  # an unknown primitive: nothing sensible to construct
    return None


def _uuid(draw: Draw) -> str:
    return str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))


def _div(text: str) -> str:
    import html

    return f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></div>'


# ---- curated values for datatypes whose invariants a blind walk breaks --------------------------

_UCUM = (("mg", "mg"), ("mL", "mL"), ("kg", "kg"), ("mmol/L", "mmol/L"), ("cm", "cm"), ("1", "1"))


def _quantity(draw: Draw, tcode: str) -> dict[str, Any]:
    if tcode in ("Age", "Duration"):
        unit = draw(st.sampled_from((("a", "years"), ("mo", "months"), ("d", "days"))))
        return {"value": draw(st.integers(0, 99)), "unit": unit[1], "system": "http://unitsofmeasure.org",
                "code": unit[0]}
    if tcode == "Count":
        return {"value": draw(st.integers(0, 99)), "system": "http://unitsofmeasure.org", "code": "1"}
    code, unit = draw(st.sampled_from(_UCUM))
    return {"value": draw(st.integers(0, 10000)) / 10, "unit": unit, "system": "http://unitsofmeasure.org",
            "code": code}


def _period(draw: Draw, with_end: bool = False) -> dict[str, Any]:
    start = draw(_dates())
    out = {"start": start.isoformat()}
    if with_end or draw(st.booleans()):
        out["end"] = (start + timedelta(days=draw(st.integers(0, 400)))).isoformat()
    return out


def _special(draw: Draw, tcode: str) -> Any:
    """A valid value for a datatype with invariants, or None for the generic walk."""
    if tcode in ("Quantity", "SimpleQuantity", "Age", "Duration", "Count", "Distance"):
        return _quantity(draw, tcode)
    if tcode == "Period":
        return _period(draw)
    if tcode == "Range":
        low = draw(st.integers(0, 100))
        return {"low": {"value": low, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
                "high": {"value": low + draw(st.integers(0, 100)), "unit": "mg", "system": "http://unitsofmeasure.org",
                         "code": "mg"}}
    if tcode == "Ratio":
        return {"numerator": _quantity(draw, "Quantity"),
                "denominator": {"value": draw(st.integers(1, 10)), "unit": "1", "system": "http://unitsofmeasure.org",
                                "code": "1"}}
    if tcode == "Identifier":
        return {"system": "urn:oid:2.999.9." + str(draw(st.integers(1, 99))),
                "value": draw(st.from_regex(r"[A-Z0-9]{4,12}", fullmatch=True))}
    if tcode == "ContactPoint":
        return {"system": "phone", "value": "+" + str(draw(st.integers(10**8, 10**11)))}
    if tcode == "HumanName":
        return {"family": draw(_WORD), "given": [draw(_WORD)]}
    if tcode == "Address":
        return {"line": [draw(_TEXT)], "city": draw(_WORD), "country": draw(st.sampled_from(("FR", "DE", "IT", "NL")))}
    if tcode == "Timing":
        return {"repeat": {"frequency": draw(st.integers(1, 4)), "period": 1, "periodUnit": "d"}}
    if tcode == "Narrative":
        return {"status": "generated", "div": _div(draw(_TEXT))}
    if tcode == "Attachment":
        return {"contentType": "text/plain", "data": base64.b64encode(draw(_TEXT).encode()).decode()}
    if tcode == "Annotation":
        return {"text": draw(_TEXT)}
    if tcode == "Coding":
        return {"system": "urn:oid:2.999.8", "code": draw(st.from_regex(r"[A-Z][0-9]{2,5}", fullmatch=True)),
                "display": draw(_TEXT)}
    if tcode == "CodeableConcept":
        return {"coding": [_special(draw, "Coding")], "text": draw(_TEXT)}
    return None


# ---- the walk ------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, validator: Any, draw: Draw, references: Mapping[str, Sequence[str]], url: str) -> None:
        self.v = validator
        self.draw = draw
        self.references = references
        self.url = url

    def _reject(self, why: str) -> None:
        _count(self.url, f"unconstructible:{why}")
        reject()

    # -- entry points --
    def resource(self, url: str, depth: int = 0) -> dict[str, Any]:
        cs = self.v.structure(url)
        if cs is None:
            raise UsageError(f"from_profile(): no StructureDefinition {url!r} in the loaded packages; "
                             "add its package with `conformance packages add` or check the URL")
        if cs.kind == "resource":
            out: dict[str, Any] = {"resourceType": cs.type}
        else:  # a datatype or extension profile: curated base value, then this profile's rules
            out = (_special(self.draw, cs.type) or {}) if cs.type != "Extension" else {}
        self._fill(out, cs.root, cs.type, depth)
        if cs.kind == "resource" and depth == 0:
            out.setdefault("id", self.draw(st.from_regex(r"[a-z][a-z0-9\-]{3,15}", fullmatch=True)))
        return out

    # -- children --
    def _children(self, elem: Any, tcode: str) -> dict[str, Any]:
        if elem.children:
            return elem.children
        url = next((t.profiles[0] for t in elem.types if t.code == tcode and t.profiles), None) or tcode
        cs = self.v.structure(url)
        return cs.root.children if cs is not None else {}

    def _fill(self, obj: dict[str, Any], elem: Any, tcode: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self._reject(f"depth>{MAX_DEPTH} at {elem.id}")
        for name, child in self._children(elem, tcode).items():
            if name in obj:  # from a pattern or a curated value: honour this profile's own rules
                if child.max == 0:
                    del obj[name]
                elif child.fixed is not None:
                    obj[name] = copy.deepcopy(child.fixed[1])
                elif child.pattern is not None and isinstance(child.pattern[1], dict) and isinstance(obj[name], dict):
                    obj[name] = {**obj[name], **copy.deepcopy(child.pattern[1])}
                continue
            if child.max == 0 or any(k.startswith(name) and k[len(name):][:1].isupper() for k in obj):
                continue
            required = [s for s in child.slices if s.min > 0 and s.max != 0]
            wanted = child.min
            if wanted == 0 and not required:
                if not self._optional_ok(name, child, depth):
                    continue
                wanted = 1
            values: list[tuple[str, Any]] = []
            for sl in required:
                for _ in range(sl.min):
                    values.append(self._value(sl, depth + 1))
            for _ in range(max(0, wanted - len(values))):
                values.append(self._value(child, depth + 1))
            values = [(t, v) for t, v in values if v is not None]
            if not values:
                if child.min > 0:
                    self._reject(f"no value for required {child.id}")
                continue
            if child.is_choice:
                t, v = values[0]
                obj[name + t[0].upper() + t[1:]] = v
            elif child.is_array or child.max is None or (child.max or 0) > 1:
                obj[name] = [v for _, v in values]
            else:
                obj[name] = values[0][1]
        if not obj and elem.types and elem.types[0].code not in ("BackboneElement", "Element"):
            return

    def _optional_ok(self, name: str, child: Any, depth: int) -> bool:
        if name in SKIP_OPTIONAL or child.is_modifier or child.content_ref or depth > OPTIONAL_DEPTH:
            return False
        codes = child.type_codes
        if any(c in ("Resource", "Extension") or c[:1].isupper() and self._is_resource(c) for c in codes):
            return False
        if codes == ("Reference",) and not self._reference_targets(child):
            return False
        return self.draw(st.integers(0, 3)) == 0  # about one optional element in four

    def _is_resource(self, code: str) -> bool:
        cs = self.v.structure(code)
        return cs is not None and cs.kind == "resource"

    # -- one value --
    def _value(self, elem: Any, depth: int) -> tuple[str, Any]:
        if elem.fixed is not None:
            return elem.fixed[0] or self._first_type(elem), copy.deepcopy(elem.fixed[1])
        types = [t for t in elem.types if t.code != "Extension" or t.profiles] or list(elem.types)
        if not types:
            if elem.content_ref:
                self._reject(f"contentReference at {elem.id}")
            return "", None
        if elem.pattern is not None:
            ptype = elem.pattern[0] or types[0].code
            types = [t for t in types if t.code == ptype] or types
        tref = types[0] if len(types) == 1 else self.draw(st.sampled_from(types))
        tcode = tref.code
        binding = elem.binding
        if binding and binding[1] and tcode in ("code", "Coding", "CodeableConcept", "string", "uri") and (
                binding[0] == "required" or self._inside_maximum(elem, binding[1])):
            return tcode, self._bound(binding[1], tcode, elem)
        if tcode in _PRIMITIVE_CODES:
            return tcode, _primitive(self.draw, tcode, elem)
        if tcode == "Reference":
            return tcode, self._reference(elem, tref)
        if self._is_resource(tcode) or tcode == "Resource":
            target = tref.profiles[0] if tref.profiles else tcode
            if target == "Resource":
                self._reject(f"unspecified resource at {elem.id}")
            return tcode, self.resource(target, depth)
        value: dict[str, Any] = copy.deepcopy(elem.pattern[1]) if elem.pattern is not None else {}
        if not value and tcode != "Extension":
            value = _special(self.draw, tcode) or {}
            if value and not elem.children and not tref.profiles:
                return tcode, value
            end = elem.children.get("end") if tcode == "Period" else None
            if end is not None and end.min > 0 and "end" not in value:
                value = _period(self.draw, with_end=True)  # per-1: an end the profile requires comes after start
        if tref.profiles and tcode == "Extension":
            value.update(self.resource(tref.profiles[0], depth))
        else:
            self._fill(value, elem, tcode, depth)
        if not value:  # nothing required inside: the caller drops it (or rejects if it was required)
            return tcode, None
        return tcode, value

    def _first_type(self, elem: Any) -> str:
        return elem.types[0].code if elem.types else ""

    def _inside_maximum(self, elem: Any, vs: str) -> bool:
        """An element whose codes a maximum value set limits (R4 maxValueSet: all-languages on the language
        elements) draws from its own value set when that one expands: those codes lie inside the maximum."""
        from conformance.fhir.structure import MAX_VALUE_SET_PURPOSE
        from conformance.fhir.terminology import Expansion

        return any(purpose == MAX_VALUE_SET_PURPOSE for purpose, _vs in elem.additional_bindings) \
            and isinstance(self.v.terminology.expand(vs), Expansion)

    def _bound(self, vs: str, tcode: str, elem: Any) -> Any:
        from conformance.fhir.terminology import Expansion

        expansion = self.v.terminology.expand(vs)
        if not isinstance(expansion, Expansion) or not expansion.codes:
            self._reject(f"required binding {vs} not expandable offline ({elem.id})")
        system, code = self.draw(st.sampled_from(sorted(expansion.codes)))
        if tcode in ("code", "string", "uri"):
            return code
        coding = {"system": system, "code": code}
        if elem.pattern is not None and isinstance(elem.pattern[1], dict):
            base = copy.deepcopy(elem.pattern[1])
            return base if tcode == "CodeableConcept" and base.get("coding") else {**base, **coding}
        return coding if tcode == "Coding" else {"coding": [coding]}

    def _reference_targets(self, elem: Any) -> list[str]:
        out: list[str] = []
        for t in elem.types:
            if t.code != "Reference":
                continue
            for target in t.targets or ("http://hl7.org/fhir/StructureDefinition/Resource",):
                rtype = self._target_type(target)
                if rtype:
                    out.append(rtype)
        return out

    def _target_type(self, target: str) -> str | None:
        if target.endswith("/Resource"):
            return "Resource"
        cs = self.v.structure(target)
        return cs.type if cs is not None else None

    def _reference(self, elem: Any, tref: Any) -> dict[str, Any]:
        types = self._reference_targets(elem) or ["Resource"]
        if self.references:
            available = [(t, u) for t in types for u in self.references.get(t, ())]
            if "Resource" in types:
                available += [(t, u) for t, urls in self.references.items() for u in urls]
            if not available:
                self._reject(f"no {'/'.join(types)} to reference at {elem.id}")
            _, url = self.draw(st.sampled_from(sorted(set(available))))
            return {"reference": url}
        concrete = [t for t in types if t != "Resource"] or ["Patient"]
        rtype = self.draw(st.sampled_from(sorted(set(concrete))))
        return {"reference": f"{rtype}/{self.draw(st.from_regex(r'[a-z][a-z0-9]{2,10}', fullmatch=True))}"}


_PRIMITIVE_CODES = frozenset({"boolean", "integer", "positiveInt", "unsignedInt", "decimal", "string", "markdown",
                              "code", "id", "uri", "url", "canonical", "oid", "uuid", "date", "dateTime", "instant",
                              "time", "base64Binary", "xhtml"})


@st.composite
def _instances(draw: Draw, url: str, validator: Any, references: Mapping[str, Sequence[str]],
               check: bool) -> dict[str, Any]:
    builder = _Builder(validator, draw, references, url)
    instance = builder.resource(url)
    if not instance:
        builder._reject("empty instance")
    _count(url, "built")
    if check and instance.get("resourceType"):
        issues = [i for i in validator.validate(instance, profiles=[url]) if i.is_error]
        repairs = [REPAIRS[r] for r in dict.fromkeys(i.rule for i in issues) if r in REPAIRS]
        if repairs:
            for repair in repairs:
                repair(instance)
            _count(url, "repaired")
            issues = [i for i in validator.validate(instance, profiles=[url]) if i.is_error]
        if issues:
            _count(url, "rejected")
            for issue in issues:
                _count(url, f"rule:{issue.rule}")
            reject()
    return instance


def from_profile(url: str, *, references: Mapping[str, Sequence[str]] | None = None, validator: Any = None,
                 check: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Instances conforming to the StructureDefinition ``url`` (a resource or datatype profile, or a
    core type name such as ``"Observation"``).

    ``references``: resource type -> references that resolve where the instance will live (e.g. the
    fullUrls of a document Bundle's entries); references are drawn only from these when given.
    ``check=False`` skips the final validation filter (for measuring the raw generator). Datatype
    profiles (``kind: complex-type``) cannot be validated on their own: they are validated where
    they are used, so for them the filter does not apply.
    Document Bundles are assembled by :func:`conformance.strategies.documents`, not here.
    """
    if validator is None:
        from conformance.fhir import default_validator

        validator = default_validator()
    cs = validator.structure(url)
    if cs is None:
        raise UsageError(f"from_profile(): no StructureDefinition {url!r} in the loaded packages; "
                         "add its package with `conformance packages add` or check the URL")
    if cs.kind == "logical":
        raise UsageError(f"from_profile({url!r}): {cs.name or url} is a logical model, which has no instances "
                         "to exchange; give a resource or datatype profile")
    if cs.type == "Bundle":
        raise UsageError(f"from_profile({url!r}): document Bundles are assembled by "
                         "conformance.strategies.documents(category); from_profile builds their entries")
    return _instances(url, validator, dict(references or {}), check)
