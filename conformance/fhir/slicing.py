"""Slice membership: does an instance value belong to a slice, by the slicing's discriminators?

Discriminator types value, pattern, type, profile and exists are supported over paths made of
element names, `$this`, `resolve()`, `extension('url')` and `ofType(T)`. The expected side
(fixed value, pattern, allowed types, profiles, existence) is read from the slice's own
element subtree, or from the slice's type profile when the subtree does not go that deep
(extension slices: the `url` is fixed in the extension's definition).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance.fhir.structure import Elem
from conformance.fhir.values import equal, matches_pattern

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext as _Run

_SEG = re.compile(r"(?:[^.(]+(?:\([^)]*\))?)")
_MISSING = object()


def _segments(path: str) -> list[str]:
    return [s for s in _SEG.findall(path) if s]


# -- instance side ---------------------------------------------------------------------------
def _children_values(obj: Any, name: str) -> list[tuple[Any, str]]:
    """Values of property `name` (choice-aware): [(value, type code)]."""
    if not isinstance(obj, dict):
        return []
    out: list[tuple[Any, str]] = []
    if name in obj:
        v = obj[name]
        for x in (v if isinstance(v, list) else [v]):
            out.append((x, ""))
        return out
    for k, v in obj.items():  # choice: value -> valueQuantity
        if k.startswith(name) and len(k) > len(name) and k[len(name)].isupper():
            tcode = k[len(name):]
            tcode = tcode if tcode[0].isupper() and tcode not in _PRIMITIVE_CAPS else tcode[0].lower() + tcode[1:]
            for x in (v if isinstance(v, list) else [v]):
                out.append((x, tcode))
    return out


_PRIMITIVE_CAPS = {"Boolean", "Integer", "String", "Decimal", "Uri", "Url", "Canonical", "Base64Binary", "Instant",
                   "Date", "DateTime", "Time", "Code", "Oid", "Id", "Markdown", "UnsignedInt", "PositiveInt", "Uuid"}


_EXTENSION_SEG = re.compile(r"extension\(['\"](.+)['\"]\)")
_OF_TYPE_SEG = re.compile(r"ofType\((.+)\)")


@cache
def _steps(path: str) -> tuple[tuple[str, str], ...]:
    """A discriminator path parsed once: (kind, argument) per segment, kind one of resolve, extension,
    ofType, child (`$this` dropped)."""
    out = []
    for seg in _segments(path):
        if seg == "$this":
            continue
        if seg == "resolve()":
            out.append(("resolve", ""))
            continue
        m = _EXTENSION_SEG.fullmatch(seg)
        if m:
            out.append(("extension", m.group(1)))
            continue
        m = _OF_TYPE_SEG.fullmatch(seg)
        out.append(("ofType", m.group(1)) if m else ("child", seg))
    return tuple(out)


def _instance_values(run: _Run, val: Any, tcode: str, path: str) -> list[tuple[Any, str]]:
    current: list[tuple[Any, str]] = [(val, tcode)]
    for kind, arg in _steps(path):
        nxt: list[tuple[Any, str]] = []
        if kind == "resolve":
            for v, _t in current:
                ref = v.get("reference") if isinstance(v, dict) else None
                if isinstance(ref, str):
                    hit = run._resolve(ref)
                    if hit is not None:  # a target whose resourceType is no string has no type to match
                        rt = hit[0].get("resourceType")
                        nxt.append((hit[0], rt if isinstance(rt, str) else ""))
            current = nxt
            continue
        if kind == "extension":
            for v, _t in current:
                for e in (v.get("extension") or []) if isinstance(v, dict) else []:
                    if isinstance(e, dict) and e.get("url") == arg:
                        nxt.append((e, "Extension"))
            current = nxt
            continue
        if kind == "ofType":
            current = [(v, t) for v, t in current if t == arg or
                       (isinstance(v, dict) and v.get("resourceType") == arg)]
            continue
        for v, _t in current:
            nxt.extend(_children_values(v, arg))
        current = nxt
    return current


# -- definition side -------------------------------------------------------------------------
def _def_at(run: _Run, elem: Elem, path: str, *, required_slices: bool = False) -> tuple[list[Elem], bool]:
    """The element definitions at `path` below slice `elem`; second: path went through resolve().
    `required_slices`: where the path crosses a sliced element, follow its required slices (min >= 1) instead of
    the element itself -- where a profile puts the discriminating value (bp's SystolicBP fixes
    `code.coding:SBPCode.code`, not `code.coding.code`)."""
    current = [elem]
    resolved = False
    for seg in _segments(path):
        if seg == "$this":
            continue
        if seg == "resolve()":
            resolved = True
            continue  # the definition side of resolve() is the targetProfile of the reference element
        m = re.fullmatch(r"extension\(['\"](.+)['\"]\)", seg)
        nxt: list[Elem] = []
        for e in current:
            if m:
                container = _container(run, e, "")
                ext = container.children.get("extension") if container else None
                if ext is not None:
                    for sl in ext.slices:
                        if any(m.group(1) in t.profiles for t in sl.types) or sl.slice_name == m.group(1):
                            nxt.append(sl)
                            nxt.extend(_reslices(sl))  # `ext:a/b` narrows `ext:a` here (a value fixed per reslice)
                continue
            if seg.startswith("ofType("):
                nxt.append(e)
                continue
            container = _container(run, e, "")
            if container is None:
                continue
            child = container.children.get(seg)
            if child is not None:
                required = [r for r in child.slices if r.min >= 1] if required_slices else []
                nxt.extend(required or [child])
        current = nxt
    return current, resolved


def _reslices(sl: Elem) -> list[Elem]:
    out = []
    for r in sl.slices:
        out.append(r)
        out.extend(_reslices(r))
    return out


def _container(run: _Run, elem: Elem, tcode: str) -> Elem | None:
    if elem.children:
        return elem
    code = tcode or (elem.types[0].code if len(elem.types) == 1 else "")
    container, _ = run._structure_for(elem, code)
    return container if container.children else None


# -- matching --------------------------------------------------------------------------------
def _matcher(run: _Run, sl: Elem, base: Elem) -> list[tuple[str, str, Any]]:
    """Compiled discriminators of one slice: [(type, path, expected)]."""
    cached = sl.matchers
    if cached is not None:
        return cached
    out: list[tuple[str, str, Any]] = []
    assert base.slicing is not None
    for dtype, path in base.slicing.discriminators:
        defs, resolved = _def_at(run, sl, path)
        if dtype in ("value", "pattern"):
            expected = []
            for d in defs:
                if d.is_choice and d.fixed is None and d.pattern is None:
                    # a choice constrained through a renamed element (valueCode -> value[x]:valueCode)
                    d = next((t for t in d.slices if t.fixed is not None or t.pattern is not None), d)
                if d.fixed is not None:
                    expected.append(("fixed", d.fixed[1]))
                elif d.pattern is not None:
                    expected.append(("pattern", d.pattern[1]))
                elif d.binding is not None and d.binding[0] == "required" and d.binding[1]:
                    expected.append(("binding", d.binding[1]))
            # extension slices by url: the url is fixed in the extension's definition
            if not expected and path == "url":
                for t in sl.types:
                    for p in t.profiles:
                        expected.append(("fixed", p.partition("|")[0]))
            if not expected:  # the value may be fixed in required slices the path crosses: each must be met
                each = [_fixed_or_pattern(d) for d in _def_at(run, sl, path, required_slices=True)[0]]
                if any(each):
                    out.append(("value-each", path, [e for e in each if e]))
                    continue
            out.append((dtype, path, expected))
        elif dtype == "type":
            codes: set[str] = set()
            for d in defs:
                if resolved:
                    for t in d.types:
                        for tp in t.targets:
                            ty = run._profile_type(tp) or tp.rsplit("/", 1)[-1]
                            codes.add(ty)
                else:
                    # a choice constrained through renamed elements (contentString -> content[x]:contentString):
                    # the types those type slices allow are the element's types here
                    typed = [sl for sl in d.slices if d.is_choice and sl.slice_name
                             and sl.slice_name.startswith(d.name) and sl.slice_name[len(d.name):][:1].isupper()]
                    for t in (t for sl in typed for t in sl.types) if typed else d.types:
                        codes.add(t.code)
                        for p in t.profiles:  # a Resource element constrained by profile: its type
                            ty = run._profile_type(p)
                            if ty:
                                codes.add(ty)
            if sl.slice_name and base.is_choice and path == "$this" and not codes:
                codes.add(sl.slice_name[len(base.name):])
            out.append((dtype, path, codes))
        elif dtype == "profile":
            profiles: list[str] = []
            for d in defs:
                for t in d.types:
                    profiles.extend(t.targets if resolved else t.profiles)
            out.append((dtype, path, tuple(profiles)))
        elif dtype == "exists":
            exp = None
            for d in defs:
                if d.min >= 1:
                    exp = True
                elif d.max == 0:
                    exp = False
            out.append((dtype, path, exp))
        else:
            out.append((dtype, path, None))
    # cheap discriminators first: a type mismatch saves a profile validation
    out.sort(key=lambda m: 1 if m[0] == "profile" else 0)
    sl.matchers = out
    return out


def _fixed_or_pattern(d: Elem) -> tuple[str, Any] | None:
    if d.fixed is not None:
        return ("fixed", d.fixed[1])
    if d.pattern is not None:
        return ("pattern", d.pattern[1])
    return None


def slice_matches(run: _Run, sl: Elem, base: Elem, val: Any, tcode: str, loc: str, *,
                  ignore_profiles: bool = False) -> bool:
    """Does `val` belong to slice `sl`? (`ignore_profiles`: judge by the other discriminators only)"""
    matchers = _matcher(run, sl, base)
    if ignore_profiles and not any(d != "profile" for d, _p, _e in matchers):
        return False
    for dtype, path, expected in matchers:
        if ignore_profiles and dtype == "profile":
            continue
        values = _instance_values(run, val, tcode, path)
        if dtype in ("value", "pattern"):
            if not expected:
                continue  # the slice does not constrain this path: it does not discriminate (as the reference)
            ok = False
            for v, _t in values:
                if all(_check_expected(run, kind, e, v) for kind, e in expected):
                    ok = True
                    break
            if not ok:
                return False
        elif dtype == "value-each":  # every required slice on the path has a value of its own
            if not all(any(_check_expected(run, kind, e, v) for v, _t in values) for kind, e in expected):
                return False
        elif dtype == "type":
            if not expected:
                return False
            if not _types_of(values, base, tcode, path) & expected:
                return False
        elif dtype == "profile":
            if not expected:
                return False
            ok = False
            for v, _t in values:
                if isinstance(v, dict) and "resourceType" in v:
                    vloc = _loc_of(run, v, loc, path)
                    if any(run.conforms(v, p, vloc) for p in expected):
                        ok = True
                        break
                elif isinstance(v, dict) and any(_datatype_conforms(run, v, p, _t) for p in expected):
                    ok = True
                    break
            if not ok:
                return False
        elif dtype == "exists":
            if expected is None:
                continue
            if bool(values) != expected:
                return False
        else:
            return False
    return True


def type_filter(run: _Run, base: Elem) -> tuple[str, dict[str, tuple[int, ...]]] | None:
    """For a slicing with a `type` discriminator: its path and, per type, the slices (in order) that take it.
    A value whose types at that path a slice does not take cannot be in it (`slice_matches` says so at that
    discriminator, and the ones it tries before are side-effect free), so the walker skips the slice."""
    assert base.slicing is not None
    path = next((p for d, p in base.slicing.discriminators if d == "type"), None)
    if path is None:
        return None
    index: dict[str, list[int]] = {}
    for si, sl in enumerate(base.slices):
        expected = next(e for d, p, e in _matcher(run, sl, base) if d == "type" and p == path)
        for t in expected:
            index.setdefault(t, []).append(si)
    return path, {t: tuple(sis) for t, sis in index.items()}


def candidates(by_type: tuple[str, dict[str, tuple[int, ...]]], types: set[str]) -> tuple[int, ...]:
    """The slices, in order, that take one of `types` (see `type_filter`)."""
    if len(types) == 1:
        for t in types:
            return by_type[1].get(t, ())
    return tuple(sorted({si for t in types for si in by_type[1].get(t, ())}))


def instance_types(run: _Run, base: Elem, val: Any, tcode: str, path: str) -> set[str]:
    """The types of `val` at `path` that `slice_matches` compares with a `type` discriminator's expected ones."""
    return _types_of(_instance_values(run, val, tcode, path), base, tcode, path)


def _types_of(values: list[tuple[Any, str]], base: Elem, tcode: str, path: str) -> set[str]:
    types = set()
    for v, t in values:
        if isinstance(v, dict) and isinstance(v.get("resourceType"), str):
            types.add(v["resourceType"])
        elif t:
            types.add(t)
    if path == "$this" and base.is_choice:
        types = {tcode}
    return types


def _check_expected(run: _Run, kind: str, expected: Any, value: Any) -> bool:
    if kind == "fixed":
        return equal(value, expected)
    if kind == "pattern":
        return matches_pattern(value, expected)
    if kind == "binding":
        res = run._member_of(value, expected)
        return bool(res)
    return False


def _loc_of(run: _Run, res: dict[str, Any], loc: str, path: str) -> str:
    for b in run.bundles:
        hit = b.entry_of.get(id(res))
        if hit is not None:
            return hit[1]
    if "resolve()" in path:
        return ""
    return f"{loc}.{path.split('.')[0]}" if path not in ("$this", "") else loc


def _datatype_conforms(run: _Run, value: dict[str, Any], url: str, tcode: str) -> bool:
    cs = run.v.structure(url)
    if cs is None:
        return False
    sink: list[Any] = []
    run._object(value, cs.root, cs.root, cs.type, "", sink)
    return not any(i.is_error for i in sink)
