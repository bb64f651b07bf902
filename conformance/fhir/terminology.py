"""Local terminology: expand ValueSets from the CodeSystems we hold, without a terminology server.

A ValueSet is expandable offline when every include/exclude names explicit concepts, a local
CodeSystem with complete content, an is-a/descendent-of filter over such a CodeSystem, or
another expandable ValueSet. Anything else (all of SNOMED CT, LOINC, property filters) is
`NotExpandable` with the reason, so a binding check can say "not checked offline" instead of
passing silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from conformance.fhir.bcp47 import SYSTEM as BCP47
from conformance.fhir.bcp47 import tag_problem
from conformance.fhir.code_identifiers import CHECKS as IDENTIFIER_CHECKS
from conformance.fhir.code_identifiers import code_problem
from conformance.fhir.context import Definitions
from conformance.fhir.mime_types import SYSTEM as MIME_TYPES
from conformance.fhir.mime_types import media_type_problem
from conformance.fhir.ucum import SYSTEM as UCUM
from conformance.fhir.ucum_syntax import unit_problem


@dataclass(frozen=True, slots=True)
class Expansion:
    url: str
    codes: frozenset[tuple[str, str]]  # (system, code)
    bare_codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class NotExpandable:
    url: str
    reason: str


@dataclass(slots=True)
class _CodeSystemIndex:
    url: str
    complete: bool
    codes: dict[str, dict[str, Any]]
    parents: dict[str, set[str]]
    case_sensitive: bool = True
    supplement: bool = False  # it supplements another code system (`supplements`): not a system to code with


#: systems whose codes are checked by their form, not looked up: system -> (what is wrong with a code, examples
#: for the hint, whether the form decides membership -- a value set that is all of the system can be checked
#: by it; a well-formed SNOMED CT or LOINC code may still not exist)
_SYNTAX_CHECKS: dict[str, tuple[Callable[[str], str | None], str, bool]] = {
    UCUM: (unit_problem, "; UCUM codes are case-sensitive expressions such as mm[Hg], /min, Cel, 10*9/L", True),
    BCP47: (tag_problem, "; language tags are such as en, fr-BE, de-CH, zh-Hant-TW", True),
    MIME_TYPES: (media_type_problem, "", True),
    **{system: (partial(code_problem, system), "", False) for system in IDENTIFIER_CHECKS},
}


class Terminology:
    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self._vs: dict[str, Expansion | NotExpandable] = {}
        self._cs: dict[str, _CodeSystemIndex | None] = {}
        self._active: set[str] = set()
        self._implicit: dict[str, str] | None = None
        self._grammar: dict[str, str | None] = {}  # value set URL -> the grammar system it is all of (or None)
        #: per (system, code, display): (system problem, unknown-code problem, wrong-display message), filled by
        #: bindings.py
        self.coding_memo: dict[tuple[str, str, str | None],
                               tuple[tuple[str, str] | None, str | None, str | None]] = {}

    # -- code systems --------------------------------------------------------------------------
    def code_system(self, url: str) -> _CodeSystemIndex | None:
        if url in self._cs:
            return self._cs[url]
        cs = self.defs.get(url)
        index = None
        if cs is not None and cs.get("resourceType") == "CodeSystem":
            codes: dict[str, dict[str, Any]] = {}
            parents: dict[str, set[str]] = {}

            def visit(concepts: list[dict[str, Any]], parent: str | None) -> None:
                for c in concepts:
                    code = c.get("code")
                    if not isinstance(code, str):
                        continue
                    codes[code] = c
                    if parent is not None:
                        parents.setdefault(code, set()).add(parent)
                    for p in c.get("property") or ():
                        if p.get("code") in ("parent", "subsumedBy") and isinstance(p.get("valueCode"), str):
                            parents.setdefault(code, set()).add(p["valueCode"])
                    visit(c.get("concept") or [], code)

            visit(cs.get("concept") or [], None)
            index = _CodeSystemIndex(url, cs.get("content", "complete") == "complete" and bool(codes), codes, parents,
                                     bool(cs.get("caseSensitive", True)),
                                     bool(cs.get("supplements")) or cs.get("content") == "supplement")
        self._cs[url] = index
        return index

    def _descendants(self, cs: _CodeSystemIndex, code: str, include_self: bool) -> set[str]:
        children: dict[str, set[str]] = {}
        for c, ps in cs.parents.items():
            for p in ps:
                children.setdefault(p, set()).add(c)
        out: set[str] = {code} if include_self else set()
        stack = [code]
        while stack:
            for ch in children.get(stack.pop(), ()):
                if ch not in out:
                    out.add(ch)
                    stack.append(ch)
        return out

    # -- value sets ----------------------------------------------------------------------------
    def expand(self, url: str) -> Expansion | NotExpandable:
        key = url.partition("|")[0]
        hit = self._vs.get(key)
        if hit is not None:
            return hit
        if key in self._active:
            return NotExpandable(key, "ValueSet includes itself (cycle)")
        self._active.add(key)
        try:
            result = self._expand(url, key)
        finally:
            self._active.discard(key)
        self._vs[key] = result
        return result

    def _expand(self, url: str, key: str) -> Expansion | NotExpandable:
        vs = self.defs.get(url)
        if vs is None or vs.get("resourceType") != "ValueSet":
            cs_url = self._implicit_value_sets().get(key)
            if cs_url is not None:  # a CodeSystem's implicit "all codes" value set
                part = self._include({"system": cs_url})
                if isinstance(part, NotExpandable):
                    return NotExpandable(key, part.reason)
                return Expansion(key, frozenset(part), frozenset(c for _, c in part))
            return NotExpandable(key, f"ValueSet {key} is not in the loaded packages")
        compose = vs.get("compose")
        if not compose:
            exp = vs.get("expansion") or {}
            contains = exp.get("contains")
            if contains is not None and not exp.get("total", 0) > len(contains):
                codes = set()
                self._flatten_contains(contains, codes)
                return Expansion(key, frozenset(codes), frozenset(c for _, c in codes))
            return NotExpandable(key, f"ValueSet {key} has neither compose nor a complete expansion")
        included: set[tuple[str, str]] = set()
        for inc in compose.get("include") or ():
            part = self._include(inc)
            if isinstance(part, NotExpandable):
                return NotExpandable(key, part.reason)
            included |= part
        for exc in compose.get("exclude") or ():
            part = self._include(exc)
            if isinstance(part, NotExpandable):
                return NotExpandable(key, part.reason)
            included -= part
        return Expansion(key, frozenset(included), frozenset(c for _, c in included))

    def grammar_system(self, url: str) -> str | None:
        """The system a value set takes whole when that system is a grammar every code can be checked against
        offline (UCUM, BCP 47 language tags, BCP 13 media types): `all-languages` is all of urn:ietf:bcp:47,
        `mimetypes` all of urn:ietf:bcp:13. Membership in such a value set is `check_code` finding nothing wrong.
        None for any other value set."""
        if url not in self._grammar:
            self._grammar[url] = self._grammar_system(url)
        return self._grammar[url]

    def _grammar_system(self, url: str) -> str | None:
        vs = self.defs.get(url)
        compose = vs.get("compose") if vs is not None and vs.get("resourceType") == "ValueSet" else None
        if not isinstance(compose, dict) or compose.get("exclude"):
            return None
        include = compose.get("include")
        if not isinstance(include, list) or len(include) != 1 or not isinstance(include[0], dict) \
                or set(include[0]) - {"system", "version"}:
            return None
        system = include[0].get("system")
        check = _SYNTAX_CHECKS.get(system)
        return system if check is not None and check[2] else None

    def _implicit_value_sets(self) -> dict[str, str]:
        if self._implicit is None:
            self._implicit = {}
            for url in self.defs.urls("CodeSystem"):
                cs = self.defs.get(url) or {}
                if isinstance(cs.get("valueSet"), str):
                    self._implicit[cs["valueSet"].partition("|")[0]] = url
        return self._implicit

    def _flatten_contains(self, contains: list[dict[str, Any]], out: set[tuple[str, str]]) -> None:
        for c in contains:
            if "code" in c:
                out.add((c.get("system", ""), c["code"]))
            self._flatten_contains(c.get("contains") or [], out)

    def _include(self, inc: dict[str, Any]) -> set[tuple[str, str]] | NotExpandable:
        system = inc.get("system")
        result: set[tuple[str, str]] | None = None
        if system:
            if inc.get("concept"):
                result = {(system, c["code"]) for c in inc["concept"] if "code" in c}
            else:
                cs = self.code_system(system)
                if cs is None:
                    return NotExpandable(system, f"code system {system} is not available offline")
                if not cs.complete:
                    return NotExpandable(system, f"code system {system} is only a fragment here")
                if inc.get("filter"):
                    codes: set[str] | None = None
                    for f in inc["filter"]:
                        op, prop, value = f.get("op"), f.get("property"), f.get("value", "")
                        if op in ("is-a", "descendent-of") and prop in ("concept", "code", None):
                            sel = self._descendants(cs, value, op == "is-a")
                        elif op == "=" and prop in ("concept", "code"):
                            sel = {value}
                        elif op == "in" and prop in ("concept", "code"):
                            sel = set(value.split(","))
                        elif op == "is-not-a" and prop in ("concept", "code"):
                            sel = set(cs.codes) - self._descendants(cs, value, True)
                        else:
                            return NotExpandable(system, f"filter {prop} {op} {value} on {system} is not supported "
                                                         "offline")
                        codes = sel if codes is None else codes & sel
                    result = {(system, c) for c in (codes or ())}
                else:
                    result = {(system, c) for c in cs.codes}
        for vs_url in inc.get("valueSet") or ():
            sub = self.expand(vs_url)
            if isinstance(sub, NotExpandable):
                return sub
            result = set(sub.codes) if result is None else result & set(sub.codes)
        return result or set()

    # -- membership ----------------------------------------------------------------------------
    def check_system(self, system: str) -> tuple[str, str] | None:
        """Why `system` cannot be a Coding's system, and where that is said (`system`: at the Coding's system,
        '': at the Coding, as the reference validator places each), or None: a code system supplement, or the
        URL of a value set that is no code system."""
        cs = self.code_system(system)
        if cs is not None and cs.supplement:
            return f"CodeSystem {system} is a supplement, so can't be used as a value in Coding.system (hint: code " \
                "with the code system it supplements)", "system"
        if cs is None:
            vs = self.defs.get(system)
            if vs is not None and vs.get("resourceType") == "ValueSet":
                return f"Invalid System URI: {system} - cannot use a value set URI as a system (hint: the system is " \
                    "the code system the code comes from; the value set is what an element is bound to)", ""
        return None

    def check_code(self, system: str | None, code: str) -> str | None:
        """Why `code` is no code of `system`, as far as can be told offline: not in a complete local CodeSystem, not
        a UCUM expression, not a well-formed SNOMED CT or LOINC code (`code_identifiers`); else None."""
        if not system:
            return None
        syntax = _SYNTAX_CHECKS.get(system)
        if syntax is not None:  # not a list of codes we hold: a grammar, or a check digit
            problem_of, example, _whole = syntax
            problem = problem_of(code)
            return f"Unknown code '{code}' in the CodeSystem '{system}' (hint: {problem}{example})" if problem \
                else None
        cs = self.code_system(system)
        if cs is None or not cs.complete:
            return None
        if code in cs.codes:
            return None
        if not cs.case_sensitive and code.lower() in {c.lower() for c in cs.codes}:
            return None
        return f"Unknown code '{code}' in the CodeSystem '{system}'"

    def display_of(self, system: str, code: str) -> str | None:
        cs = self.code_system(system)
        if cs is None:
            return None
        c = cs.codes.get(code)
        return c.get("display") if c else None

    def value_set_displays(self, url: str, system: str, code: str) -> list[str]:
        """The displays a value set itself gives a code (its expansion's, or its compose's concept lists:
        display and designations). A display the bound value set gives is valid for the code, as the
        reference validator accepts it when it checks the code against that value set."""
        vs = self.defs.get(url)
        if vs is None or vs.get("resourceType") != "ValueSet":
            return []
        out: list[str] = []

        def take(c: dict[str, Any]) -> None:
            for v in [c.get("display")] + [d.get("value") for d in c.get("designation") or () if isinstance(d, dict)]:
                if isinstance(v, str):
                    out.append(v)

        def contains(items: Any) -> None:
            for c in items or ():
                if isinstance(c, dict):
                    if c.get("code") == code and c.get("system") == system:
                        take(c)
                    contains(c.get("contains"))

        contains((vs.get("expansion") or {}).get("contains"))
        for inc in (vs.get("compose") or {}).get("include") or ():
            if isinstance(inc, dict) and inc.get("system") == system:
                for c in inc.get("concept") or ():
                    if isinstance(c, dict) and c.get("code") == code:
                        take(c)
        return out

    def check_display(self, system: str, code: str, display: str) -> str | None:
        """If `system` is a local CodeSystem that gives `code` a display (or designations) and `display` is
        none of them, the message (as the reference validator words it); else None. Case and runs of
        white space are ignored, as the reference validator does."""
        cs = self.code_system(system)
        if cs is None:
            return None
        c = cs.codes.get(code)
        if not c or not isinstance(c.get("display"), str):
            return None
        valid = [c["display"]] + [d["value"] for d in c.get("designation") or () if isinstance(d, dict)
                                  and isinstance(d.get("value"), str)]
        norm = " ".join(display.split()).lower()
        if any(" ".join(v.split()).lower() == norm for v in valid):
            return None
        shown = " or ".join(f"'{v}'" for v in valid[:4])
        return (f"Wrong Display Name '{display}' for {system}#{code}. Valid display is {shown} "
                "(hint: use the code system's display, or leave display out)")
