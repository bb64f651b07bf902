"""``mutations(document)``: the same document with exactly one named rule broken.

Why: a negative check must know *which* rejection to expect. Each :class:`Mutation` names its
kind, the rule it breaks (an element id, a binding, an invariant key, ``reference.unresolved``:
the rule names the validator reports), where in the Bundle the change is, and the broken
document. Candidates come from the document's own profiles (compiled snapshots):

* ``missing-required`` - remove an element (or the only item of a required slice) whose minimum
  cardinality is reached;
* ``code-outside-binding`` - replace a code bound to an expandable required ValueSet by a code
  outside it;
* ``broken-invariant`` - a known construction that falsifies one invariant of the profiles
  (:data:`INVARIANT_BREAKERS`);
* ``dangling-reference`` - point a resolving reference at a ``urn:uuid`` no entry has.

Every mutant is validated: it must show an error for the named rule and no error for any other
rule except consequences the tag already implies (slice membership, unknown code in a code
system). Candidates that break something else as well are skipped, so the tag is exact.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from conformance.errors import UsageError

MISSING_REQUIRED = "missing-required"
CODE_OUTSIDE_BINDING = "code-outside-binding"
BROKEN_INVARIANT = "broken-invariant"
DANGLING_REFERENCE = "dangling-reference"
MUTATION_KINDS: tuple[str, ...] = (MISSING_REQUIRED, CODE_OUTSIDE_BINDING, BROKEN_INVARIANT, DANGLING_REFERENCE)

#: Rules the validator reports as a consequence of any change (never counted as a second rule).
_CONSEQUENCES = ("terminology.unknown-code",)


@dataclass(frozen=True)
class Mutation:
    """A document with one rule broken, and the tag a negative check reasons about."""

    kind: str
    rule: str
    location: str
    description: str
    document: dict[str, Any] = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Tag only (the document is recorded separately as evidence)."""
        return {"kind": self.kind, "rule": self.rule, "location": self.location, "description": self.description}


@dataclass
class _Candidate:
    kind: str
    rule: str
    location: str
    description: str
    apply: Callable[[dict[str, Any]], None]


# ---- walking a Bundle with its profiles -----------------------------------------------------

def _entry_profiles(v: Any, bundle: dict[str, Any]) -> list[str | None]:
    """Per entry: the profile its Bundle profile's entry slice requires (None: base type only).
    When several slices take the same resource type (IPS observations), the one the resource
    conforms to is chosen."""
    urls = [u for u in (bundle.get("meta") or {}).get("profile") or [] if v.structure(u)]
    cs = v.structure(urls[0]) if urls else None
    slices = cs.root.children["entry"].slices if cs and "entry" in cs.root.children else []
    by_type: dict[str, list[str]] = {}
    for sl in slices:
        res = sl.children.get("resource")
        for t in res.types if res else ():
            if t.profiles:
                by_type.setdefault(t.code, []).append(t.profiles[0])
    out: list[str | None] = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource")
        options = by_type.get((resource or {}).get("resourceType", ""), [])
        if len(options) <= 1:
            out.append(options[0] if options else None)
        else:
            out.append(next((u for u in options if _resource_conforms(v, resource, u)), None))
    return out


def _resource_conforms(v: Any, res: Any, url: str) -> bool:
    return isinstance(res, dict) and not [i for i in v.validate(res, profiles=[url]) if i.is_error and
                                          not i.rule.startswith("reference")]


def _children(v: Any, elem: Any, tcode: str) -> dict[str, Any]:
    if elem.children:
        return elem.children
    url = next((t.profiles[0] for t in elem.types if t.code == tcode and t.profiles), None) or tcode
    cs = v.structure(url)
    return cs.root.children if cs is not None else {}


def _keymap(children: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    km: dict[str, tuple[Any, str]] = {}
    for name, child in children.items():
        if child.is_choice:
            for t in child.types:
                km[name + t.code[0].upper() + t.code[1:]] = (child, t.code)
        else:
            km[name] = (child, child.types[0].code if child.types else "")
    return km


def _matches(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches(p, x) for x in value) for p in pattern)
    return pattern == value


def _slice_of(sl: Any, item: Any) -> bool:
    """Does an item belong to a slice? (its children's fixed/pattern values all match: enough for the
    code-pattern slices of sections and the url slices of extensions)."""
    if not isinstance(item, dict):
        return False
    for name, child in sl.children.items():
        expected = child.pattern or child.fixed
        if expected is not None and not _matches(expected[1], item.get(name)):
            return False
    return True


Path = tuple[Any, ...]


def _walk(v: Any, node: dict[str, Any], elem: Any, tcode: str, loc: str, path: Path, depth: int) -> Iterator[
        tuple[Any, str, Any, str, Path, str, int | None, list[Any]]]:
    """(definition, type code, value, location, parent path, key, index, sibling items) below node."""
    km = _keymap(_children(v, elem, tcode))
    for key, value in list(node.items()):
        if key not in km or key.startswith("_"):
            continue
        child, ctype = km[key]
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            index = i if isinstance(value, list) else None
            where = f"{loc}.{key}[{i}]" if index is not None else f"{loc}.{key}"
            yield child, ctype, item, where, path, key, index, items
            if isinstance(item, dict) and depth < 3 and ctype not in ("Reference", "Narrative", "Extension"):
                sub = (*path, key, i) if index is not None else (*path, key)
                # descend with the slice's own definition when the item belongs to one
                inner = next((sl for sl in child.slices if sl.children and _slice_of(sl, item)), child)
                yield from _walk(v, item, inner, ctype, where, sub, depth + 1)


def _remove(path: Path, key: str, index: int | None) -> Callable[[dict[str, Any]], None]:
    """A mutator (applied to a deep copy) that removes node[key] or node[key][index]."""
    def apply(doc: dict[str, Any]) -> None:
        target = _follow(doc, path)
        if index is None or len(target[key]) <= 1:
            del target[key]
        else:
            del target[key][index]
    return apply


def _follow(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


# ---- candidates ---------------------------------------------------------------------------------

def _required_candidates(v: Any, bundle: dict[str, Any], profiles: list[str | None]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for i, (entry, profile) in enumerate(zip(bundle.get("entry") or [], profiles, strict=False)):
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        cs = v.structure(profile or res.get("resourceType", ""))
        if cs is None:
            continue
        loc = f"Bundle.entry[{i}].resource"
        for child, _ctype, item, where, parent, key, index, items in _walk(v, res, cs.root, cs.type, loc,
                                                                            ("entry", i, "resource"), 0):
            required_slices = [sl for sl in child.slices if sl.min > 0]
            if required_slices and index is not None:
                for sl in required_slices:
                    members = [x for x in items if _slice_of(sl, x)]
                    if item in members and len(members) == sl.min and not (child.min and len(items) <= child.min):
                        out.append(_Candidate(MISSING_REQUIRED, sl.id, where,
                                              f"removed the only {sl.id} (minimum {sl.min})",
                                              _remove(parent, key, index)))
                continue
            if child.min > 0 and len(items) <= child.min and child.fixed is None:
                out.append(_Candidate(MISSING_REQUIRED, child.id, where.rsplit("[", 1)[0] if index is not None else where,
                                      f"removed {child.id} (minimum {child.min})", _remove(parent, key, index)))
    return out


def _binding_candidates(v: Any, bundle: dict[str, Any], profiles: list[str | None]) -> list[_Candidate]:
    from conformance.fhir.terminology import Expansion

    out: list[_Candidate] = []
    for i, (entry, profile) in enumerate(zip(bundle.get("entry") or [], profiles, strict=False)):
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        cs = v.structure(profile or res.get("resourceType", ""))
        if cs is None:
            continue
        loc = f"Bundle.entry[{i}].resource"
        for child, ctype, item, where, parent, key, index, _items in _walk(v, res, cs.root, cs.type, loc,
                                                                            ("entry", i, "resource"), 0):
            b = child.binding
            if not b or b[0] != "required" or not b[1] or child.fixed is not None or child.pattern is not None:
                continue
            expansion = v.terminology.expand(b[1])
            if not isinstance(expansion, Expansion):
                continue
            bad = _outside_code(item, expansion.bare_codes)
            if bad is None:
                continue
            out.append(_Candidate(CODE_OUTSIDE_BINDING, child.id, where,
                                  f"{child.id}: code {bad!r} is outside the required value set {b[1]}",
                                  _replace_code(parent, key, index, ctype, bad)))
    return out


def _outside_code(item: Any, codes: frozenset[str]) -> str | None:
    code = item if isinstance(item, str) else (
        (item.get("coding") or [{}])[0].get("code") if isinstance(item, dict) and "coding" in item
        else item.get("code") if isinstance(item, dict) else None)
    if not isinstance(code, str):
        return None
    for candidate in (f"{code}-x", f"not-{code}", "x-unknown"):
        if candidate not in codes:
            return candidate
    return None


def _replace_code(path: Path, key: str, index: int | None, ctype: str, bad: str) -> Callable[
        [dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target = _follow(doc, path)
        value = target[key] if index is None else target[key][index]
        if ctype == "CodeableConcept":
            value["coding"][0]["code"] = bad
        elif ctype == "Coding":
            value["code"] = bad
        elif index is None:
            target[key] = bad
        else:
            target[key][index] = bad
    return apply


def _references(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                yield path, v
            else:
                yield from _references(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _references(v, (*path, i))


def _location(path: tuple[Any, ...]) -> str:
    out = "Bundle"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def _dangling_candidates(bundle: dict[str, Any]) -> list[_Candidate]:
    urls = {e.get("fullUrl") for e in bundle.get("entry") or []}
    out = []
    for path, ref in _references(bundle):
        if ref not in urls:
            continue
        fresh = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'dangling|' + ref)}"

        def apply(doc: dict[str, Any], path: tuple[Any, ...] = path, fresh: str = fresh) -> None:
            _follow(doc, path)["reference"] = fresh
        out.append(_Candidate(DANGLING_REFERENCE, "reference.unresolved", _location(path) + ".reference",
                              f"{_location(path)} points at {fresh}, which no entry of the document has", apply))
    return out


# ---- invariant breakers -------------------------------------------------------------------------

def _entries_of(bundle: dict[str, Any], rtype: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, e["resource"]) for i, e in enumerate(bundle.get("entry") or [])
            if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == rtype]


def _sections(bundle: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    comps = _entries_of(bundle, "Composition")
    return list(enumerate(comps[0][1].get("section") or [])) if comps else []


def _section_code(section: dict[str, Any]) -> str:
    return ((section.get("code") or {}).get("coding") or [{}])[0].get("code", "")


def _break_ips_comp_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for k, section in _sections(bundle):
        if _section_code(section) in ("48765-2", "11450-4", "10160-0"):
            def apply(doc: dict[str, Any], k: int = k) -> None:
                sec = doc["entry"][0]["resource"]["section"][k]
                sec.pop("entry", None)
                sec.pop("emptyReason", None)
            yield (f"Bundle.entry[0].resource.section[{k}]",
                   "a required section with neither entries nor an emptyReason", apply)


def _break_cmp_2(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for k, section in _sections(bundle):
        if section.get("entry"):
            def apply(doc: dict[str, Any], k: int = k) -> None:
                doc["entry"][0]["resource"]["section"][k]["emptyReason"] = {"coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "unavailable"}]}
            yield f"Bundle.entry[0].resource.section[{k}]", "a section with entries that also claims to be empty", apply


def _break_ait_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "AllergyIntolerance"):
        if res.get("clinicalStatus"):
            def apply(doc: dict[str, Any], i: int = i) -> None:
                doc["entry"][i]["resource"].pop("clinicalStatus")
            yield f"Bundle.entry[{i}].resource", "an allergy without clinicalStatus (not entered-in-error)", apply


def _break_con_4(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "Condition"):
        codes = [c.get("code") for c in (res.get("clinicalStatus") or {}).get("coding") or []]
        if "active" in codes and not any(k.startswith("abatement") for k in res):
            def apply(doc: dict[str, Any], i: int = i) -> None:
                doc["entry"][i]["resource"]["abatementString"] = "resolved"
            yield f"Bundle.entry[{i}].resource", "an active condition with an abatement", apply


def _break_ep_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for k, section in _sections(bundle):
        if _section_code(section) == "57828-6" and section.get("entry"):
            def apply(doc: dict[str, Any], k: int = k) -> None:
                sec = doc["entry"][0]["resource"]["section"][k]
                sec.pop("entry")
                sec["emptyReason"] = {"text": "withheld"}
            yield f"Bundle.entry[0].resource.section[{k}]", "a prescriptions section listing no prescription", apply


def _break_mdd_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "MedicationDispense"):
        handed = res.get("whenHandedOver")
        if isinstance(handed, str) and len(handed) >= 10:
            def apply(doc: dict[str, Any], i: int = i, handed: str = handed) -> None:
                year = int(handed[:4]) + 1
                doc["entry"][i]["resource"]["whenPrepared"] = f"{year}{handed[4:]}"
            yield f"Bundle.entry[{i}].resource", "a dispensation handed over before it was prepared", apply


def _break_lab_3(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "DiagnosticReport"):
        if res.get("identifier"):
            def apply(doc: dict[str, Any], i: int = i) -> None:
                ident = doc["entry"][i]["resource"]["identifier"][0]
                ident["value"] = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'other|' + str(ident.get('value')))}"
            yield (f"Bundle.entry[{i}].resource.identifier[0]",
                   "a DiagnosticReport with another identifier than its Composition", apply)


def _break_lab_4(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "DiagnosticReport"):
        if len(res.get("result") or []) >= 2:
            def apply(doc: dict[str, Any], i: int = i) -> None:
                doc["entry"][i]["resource"]["result"].pop()
            yield f"Bundle.entry[{i}].resource.result", "a DiagnosticReport missing a result its Composition lists", apply


def _break_lab_obs_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "Observation"):
        values = [k for k in res if k.startswith("value")]
        if values and res.get("status") not in ("registered", "cancelled"):
            def apply(doc: dict[str, Any], i: int = i, values: list[str] = values) -> None:
                for key in values:
                    doc["entry"][i]["resource"].pop(key)
            yield f"Bundle.entry[{i}].resource", "a final result without value or absent reason", apply


def _break_img_study(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "ImagingStudy"):
        for j, ident in enumerate(res.get("identifier") or []):
            if ident.get("system") == "urn:dicom:uid":
                def apply(doc: dict[str, Any], i: int = i, j: int = j) -> None:
                    doc["entry"][i]["resource"]["identifier"][j]["system"] = "urn:ietf:rfc:3986"
                yield (f"Bundle.entry[{i}].resource.identifier[{j}]", "a study without its DICOM Study Instance UID",
                       apply)


def _break_per_1(bundle: dict[str, Any]) -> Iterator[tuple[str, str, Callable[[dict[str, Any]], None]]]:
    for i, res in _entries_of(bundle, "Encounter"):
        period = res.get("period") or {}
        if period.get("start") and period.get("end"):
            def apply(doc: dict[str, Any], i: int = i) -> None:
                p = doc["entry"][i]["resource"]["period"]
                p["start"], p["end"] = p["end"], p["start"]
                if p["start"] == p["end"]:
                    p["start"] = "2999" + p["start"][4:]
            yield f"Bundle.entry[{i}].resource.period", "a stay that ends before it starts", apply


#: invariant key -> breaker yielding (location, description, mutator) for a document.
INVARIANT_BREAKERS: dict[str, Callable[[dict[str, Any]], Iterator[tuple[str, str, Callable[[dict[str, Any]],
                                                                                            None]]]]] = {
    "ips-comp-1": _break_ips_comp_1,
    "cmp-2": _break_cmp_2,
    "ait-1": _break_ait_1,
    "con-4": _break_con_4,
    "ehds-ep-1": _break_ep_1,
    "mdd-1": _break_mdd_1,
    "ehds-lab-3": _break_lab_3,
    "ehds-lab-4": _break_lab_4,
    "ehds-lab-obs-1": _break_lab_obs_1,
    "ehds-img-study-1": _break_img_study,
    "per-1": _break_per_1,
}


def _invariant_candidates(bundle: dict[str, Any]) -> list[_Candidate]:
    out = []
    for key, breaker in INVARIANT_BREAKERS.items():
        for location, description, apply in breaker(bundle):
            out.append(_Candidate(BROKEN_INVARIANT, key, location, description, apply))
    return out


# ---- public -------------------------------------------------------------------------------------

def candidates(document: dict[str, Any], *, kinds: tuple[str, ...] = MUTATION_KINDS, validator: Any = None) -> list[
        _Candidate]:
    """Every single-rule change this document offers, in a stable order (before validation)."""
    unknown = set(kinds) - set(MUTATION_KINDS)
    if unknown:
        raise UsageError(f"unknown mutation kind(s) {sorted(unknown)}; known: {', '.join(MUTATION_KINDS)}")
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise UsageError("mutations() needs a document Bundle (a dict with resourceType 'Bundle')")
    if validator is None:
        from conformance.fhir import default_validator

        validator = default_validator()
    profiles = _entry_profiles(validator, document)
    out: list[_Candidate] = []
    if MISSING_REQUIRED in kinds:
        out += _required_candidates(validator, document, profiles)
    if CODE_OUTSIDE_BINDING in kinds:
        out += _binding_candidates(validator, document, profiles)
    if BROKEN_INVARIANT in kinds:
        out += _invariant_candidates(document)
    if DANGLING_REFERENCE in kinds:
        out += _dangling_candidates(document)
    return out


def _only_rule(issues: list[Any], candidate: _Candidate) -> bool:
    """The mutant shows the named rule, and nothing else but its implied consequences."""
    errors = [i for i in issues if i.is_error]
    named = [i for i in errors if i.rule == candidate.rule]
    if not named:
        return False
    for issue in errors:
        if issue in named or issue.rule in _CONSEQUENCES:
            continue
        if issue.code == "structure" and "target profile" in issue.message:
            continue  # a resource referring to the changed one: it no longer conforms to the target profile
        if ":" in issue.rule and issue.code == "required" and issue.location.startswith("Bundle"):
            continue  # the changed resource no longer fits its (profile-discriminated) slice
        if issue.code in ("required", "structure") and "slice" in issue.message.lower():
            continue
        return False
    return True


def apply_candidate(document: dict[str, Any], candidate: _Candidate) -> Mutation:
    mutant = copy.deepcopy(document)
    candidate.apply(mutant)
    return Mutation(candidate.kind, candidate.rule, candidate.location, candidate.description, mutant)


def mutate(document: dict[str, Any], *, kinds: tuple[str, ...] = MUTATION_KINDS, validator: Any = None,
           profiles: tuple[str, ...] = ()) -> list[Mutation]:
    """All exact single-rule mutants of a document (each verified with the validator)."""
    if validator is None:
        from conformance.fhir import default_validator

        validator = default_validator()
    out = []
    for candidate in candidates(document, kinds=kinds, validator=validator):
        mutation = apply_candidate(document, candidate)
        if _only_rule(validator.validate(mutation.document, profiles=list(profiles)), candidate):
            out.append(mutation)
    return out


@st.composite
def _mutations(draw: Any, document: dict[str, Any], kinds: tuple[str, ...], validator: Any,
               profiles: tuple[str, ...]) -> Mutation:
    pool = candidates(document, kinds=kinds, validator=validator)
    if not pool:
        reject()
    by_kind = [k for k in kinds if any(c.kind == k for c in pool)]
    kind = draw(st.sampled_from(by_kind))
    pool = [c for c in pool if c.kind == kind]
    start = draw(st.integers(0, len(pool) - 1))
    for offset in range(len(pool)):  # the drawn candidate, else the next exact one
        candidate = pool[(start + offset) % len(pool)]
        mutation = apply_candidate(document, candidate)
        if _only_rule(validator.validate(mutation.document, profiles=list(profiles)), candidate):
            return mutation
    reject()
    raise AssertionError("unreachable")


def mutations(document: dict[str, Any], *, kinds: tuple[str, ...] | str = MUTATION_KINDS, validator: Any = None,
              profiles: tuple[str, ...] = ()) -> st.SearchStrategy[Mutation]:
    """Mutants of ``document`` breaking exactly one named rule (see module doc), tagged.

    ``kinds``: restrict to some of :data:`MUTATION_KINDS`. ``profiles``: extra profiles the
    mutant is checked against (the document's meta.profile always applies).
    """
    if isinstance(kinds, str):
        kinds = (kinds,)
    if validator is None:
        from conformance.fhir import default_validator

        validator = default_validator()
    candidates(document, kinds=tuple(kinds), validator=validator)  # argument errors now, not at draw time
    return _mutations(document, tuple(kinds), validator, tuple(profiles))
