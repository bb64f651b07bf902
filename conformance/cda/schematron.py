"""Compile ISO Schematron into one XSLT 3.0 stylesheet that Saxon (saxonche) runs.

Why our own compiler and not the ISO skeleton: the eHDSI ART-DECOR rules use
``queryBinding="xslt2"`` (XPath 2: ``matches()``, ``if``/``for`` expressions), no
PyPI package ships the XSLT 2 skeleton, and the eHDSI files put their patterns
inside ``<phase>`` elements, which the skeleton handles only by accident. Measured
on the eHDSI samples (benchmarks/cda.py), this compiler's stylesheet gives the same
findings as Saxon running lxml's bundled ISO skeleton, and faster; see the README.

What is supported: ``ns``, ``pattern`` (also nested in ``phase``), ``rule`` with
``context``/``let``/``assert``/``report``, ``value-of``, ``name``, ``emph``/``dir``/
``span``, ``diagnostics``, ``subject``, ``phase``/``active``, schema/pattern/rule
``let``, ``include`` (local files only, inside the schema's folder), abstract patterns
(``is-a`` + ``param``), abstract rules (``extends``), and top-level ``xsl:function``/
``xsl:key``. Findings come back as ``<f a="INDEX" p="POSITIONS">message</f>``; INDEX
points into :attr:`CompiledSchematron.asserts`, POSITIONS is the element's position
path (see :func:`conformance.cda.paths.element_at_positions`).

The "compiled form" that is cached on disk is this generated stylesheet plus the
assert table (JSON); SaxonC-HE cannot export compiled stylesheets (SEF needs EE),
so Saxon compiles the stylesheet once per process.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from lxml import etree

from conformance.errors import UsageError

#: Bump when the generated stylesheet changes shape, so on-disk caches are rebuilt.
COMPILER_VERSION = "3"

SCH = "http://purl.oclc.org/dsdl/schematron"
SCH15 = "http://www.ascc.net/xml/schematron"  # Schematron 1.5, read as ISO
XSL = "http://www.w3.org/1999/XSL/Transform"
F_NS = "urn:ehds-conformance:schematron"
XS = "http://www.w3.org/2001/XMLSchema"

_SCH_NAMESPACES = (SCH, SCH15)


@dataclass(frozen=True)
class AssertInfo:
    """One assert or report, as the finding that it may produce will name it."""

    rule_id: str  # the assert's @id, else "<pattern id>/rule[j]/<assert|report>[k]"
    kind: str  # "assert" | "report"
    severity: str  # "fatal" | "error" | "warning" | "information"
    pattern: str
    context: str
    test: str
    role: str = ""
    success: bool = False  # an eHDSI-style "Success: ..." report (only kept with include_success)


@dataclass
class CompiledSchematron:
    name: str
    source: str
    sha256: str
    query_binding: str
    phase: str
    include_success: bool
    xslt: str
    asserts: list[AssertInfo]
    duplicate_patterns_dropped: int = 0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["compiler_version"] = COMPILER_VERSION
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CompiledSchematron:
        d = dict(d)
        d.pop("compiler_version", None)
        d["asserts"] = [AssertInfo(**a) for a in d["asserts"]]
        return cls(**d)


def _local(el: etree._Element) -> str | None:
    if not isinstance(el.tag, str):
        return None
    q = etree.QName(el)
    return q.localname if q.namespace in _SCH_NAMESPACES else None


def _is(el: etree._Element, name: str) -> bool:
    return _local(el) == name


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _is(c, name)]


def _trusted_parser() -> etree.XMLParser:
    # Schematron files are ours (shipped) or the user's; still never fetch anything.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


def _load(path: Path) -> etree._Element:
    try:
        return etree.parse(str(path), _trusted_parser()).getroot()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read Schematron: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise UsageError(f"{path}:{exc.lineno}: Schematron is not well-formed XML: {exc.msg}") from exc


# ---- preprocessing: include, abstract patterns, abstract rules ------------------------


def _resolve_includes(root: etree._Element, base: Path, top_dir: Path, depth: int = 0) -> None:
    if depth > 20:
        raise UsageError(f"{base}: Schematron includes nest more than 20 deep (a cycle?)")
    for inc in [e for e in root.iter() if _is(e, "include")]:
        href = inc.get("href", "")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) or href.startswith("/"):
            raise UsageError(f"{base}: Schematron include {href!r} is not a relative local file; only local "
                             "includes inside the schema's folder are followed")
        file_part, _, fragment = href.partition("#")
        target = (base.parent / file_part).resolve()
        if top_dir not in target.parents and target != top_dir:
            raise UsageError(f"{base}: Schematron include {href!r} points outside {top_dir}; refused")
        included = _load(target)
        _resolve_includes(included, target, top_dir, depth + 1)
        if fragment:
            found = [e for e in included.iter() if isinstance(e.tag, str) and e.get("id") == fragment]
            if not found:
                raise UsageError(f"{base}: include {href!r}: no element with id {fragment!r} in {target}")
            included = found[0]
        parent = inc.getparent()
        parent.replace(inc, copy.deepcopy(included))


def _substitute(text: str, params: dict[str, str]) -> str:
    for name in sorted(params, key=len, reverse=True):
        text = re.sub(r"\$" + re.escape(name) + r"(?![\w.-])", lambda _m, v=params[name]: v, text)
    return text


def _instantiate_abstract_patterns(root: etree._Element) -> None:
    patterns = [p for p in root.iter() if _is(p, "pattern")]
    abstract = {p.get("id"): p for p in patterns if p.get("abstract") == "true"}
    for p in patterns:
        ref = p.get("is-a")
        if not ref:
            continue
        if ref not in abstract:
            raise UsageError(f"Schematron pattern {p.get('id')!r}: is-a={ref!r} names no abstract pattern")
        params = {prm.get("name"): prm.get("value", "") for prm in _children(p, "param")}
        body = copy.deepcopy(abstract[ref])
        for el in body.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in ("context", "test", "select", "path", "value", "subject"):
                if el.get(attr) is not None:
                    el.set(attr, _substitute(el.get(attr), params))
        for c in list(p):
            if _is(c, "param"):
                p.remove(c)
        for c in body:
            p.append(c)
        del p.attrib["is-a"]
    for p in abstract.values():
        p.getparent().remove(p)


def _expand_extends(root: etree._Element) -> None:
    abstract_rules = {r.get("id"): r for r in root.iter() if _is(r, "rule") and r.get("abstract") == "true"}
    for _ in range(10):  # extends may chain
        pending = [e for e in root.iter() if _is(e, "extends")]
        if not pending:
            break
        for ext in pending:
            rid = ext.get("rule")
            if rid not in abstract_rules:
                raise UsageError(f"Schematron <extends rule={rid!r}>: no abstract rule with that id")
            parent = ext.getparent()
            idx = parent.index(ext)
            parent.remove(ext)
            for offset, c in enumerate(copy.deepcopy(abstract_rules[rid])):
                parent.insert(idx + offset, c)
    for r in abstract_rules.values():
        r.getparent().remove(r)


# ---- severity --------------------------------------------------------------------------

_ROLE_SEVERITY = {
    "fatal": "fatal", "error": "error", "err": "error", "warning": "warning", "warn": "warning",
    "info": "information", "information": "information", "note": "information", "hint": "information",
}
_PHASE_SEVERITY = {"errors": "error", "warnings": "warning", "notes": "information", "infos": "information"}
_PREFIX = re.compile(r"^\s*(fatal|error|err|warning|warn|note|info|information|success|ctx)\b", re.IGNORECASE)


def _severity(kind: str, role: str, text: str, default: str) -> tuple[str, bool]:
    """(severity, is_success). Role wins; then the message's own prefix (ART-DECOR writes
    "Error: ...", "Warning: ...", "Success: ..."); then the enclosing phase's kind."""
    if role and role.lower() in _ROLE_SEVERITY:
        return _ROLE_SEVERITY[role.lower()], False
    m = _PREFIX.match(text)
    if m:
        word = m.group(1).lower()
        if word == "success":
            return "information", kind == "report"
        if word == "ctx":
            return "information", False
        return _ROLE_SEVERITY.get(word, default), False
    return default, False


# ---- generation --------------------------------------------------------------------------


def _xsl(tag: str, parent: etree._Element | None = None, **attrs: str) -> etree._Element:
    el = etree.Element(f"{{{XSL}}}{tag}") if parent is None else etree.SubElement(parent, f"{{{XSL}}}{tag}")
    for k, v in attrs.items():
        el.set(k.rstrip("_").replace("__", "-"), v)
    return el


def _message(parent: etree._Element, src: etree._Element) -> None:
    """Copy an assert's mixed content into XSLT instructions that produce its text."""
    if src.text:
        _xsl("text", parent).text = src.text
    for child in src:
        name = _local(child)
        if name == "value-of":
            _xsl("value-of", parent, select=child.get("select", "."))
        elif name == "name":
            _xsl("value-of", parent, select=f"name({child.get('path', '.')})")
        elif name in ("emph", "dir", "span"):
            _message(parent, child)
        elif isinstance(child.tag, str):
            _xsl("text", parent).text = "".join(child.itertext())
        if child.tail:
            _xsl("text", parent).text = child.tail


def _let(parent: etree._Element, let: etree._Element) -> None:
    var = _xsl("variable", parent, name=let.get("name", ""))
    if let.get("value") is not None:
        var.set("select", let.get("value"))
    else:
        for c in let:
            var.append(copy.deepcopy(c))
        var.text = let.text


def _pattern_let(parent: etree._Element, let: etree._Element) -> None:
    """Pattern-level let: evaluated with the document node as context (as the skeleton does)."""
    var = _xsl("variable", parent, name=let.get("name", ""), as_="item()*")
    each = _xsl("for-each", var, select="root(.)")
    _xsl("sequence", each, select=let.get("value") or "()")


def _needs_attributes(contexts: Iterable[str]) -> bool:
    for ctx in contexts:
        stripped = re.sub(r"\[[^\[\]]*\]", "", re.sub(r"\[[^\[\]]*\]", "", ctx))
        if "@" in stripped or "attribute::" in stripped:
            return True
    return False


def compile_schematron(path: Path, *, name: str = "", phase: str = "#ALL", include_success: bool = False,
                       guard_errors: bool = True) -> CompiledSchematron:
    """Translate the Schematron at `path` into an XSLT 3.0 stylesheet (as text) plus the table
    of its asserts. `guard_errors` wraps each test in xsl:try so one rule that raises a dynamic
    XPath error becomes a finding instead of aborting the whole validation."""
    path = Path(path).resolve()
    raw = path.read_bytes()
    root = _load(path)
    if _local(root) != "schema":
        raise UsageError(f"{path}: root element is {etree.QName(root).localname!r}, not a Schematron <schema>")
    _resolve_includes(root, path, path.parent)
    _instantiate_abstract_patterns(root)
    _expand_extends(root)

    binding = (root.get("queryBinding") or "xslt").lower()
    if binding not in ("xslt", "xslt1", "xpath", "exslt", "xslt2", "xslt3", "xpath2", "xpath3", "xpath31"):
        raise UsageError(f"{path}: queryBinding {binding!r} is not supported (use xslt, xslt2 or xslt3)")
    version = "3.0" if binding not in ("xslt", "xslt1", "xpath", "exslt") else "1.0"

    namespaces = {ns.get("prefix"): ns.get("uri") for ns in root.iter() if _is(ns, "ns")}
    nsmap = {"xsl": XSL, "f": F_NS, "xs": XS, **{p: u for p, u in namespaces.items() if p}}
    sheet = etree.Element(f"{{{XSL}}}stylesheet", nsmap=nsmap)
    sheet.set("version", version)
    sheet.set("exclude-result-prefixes", "#all")
    _xsl("output", sheet, method="xml", indent="no", encoding="UTF-8")

    # top-level XSLT that a Schematron may carry (xsl:function, xsl:key)
    for c in root:
        if isinstance(c.tag, str) and etree.QName(c).namespace == XSL:
            sheet.append(copy.deepcopy(c))

    func = _xsl("function", sheet, name="f:pos", as_="xs:string")
    _xsl("param", func, name="n", as_="node()?")
    _xsl("sequence", func, select=(
        "if (empty($n)) then '' else string-join(for $a in $n/ancestor-or-self::* return "
        "string(count($a/preceding-sibling::*) + 1), '/') || "
        "(if ($n instance of attribute()) then '/@' || name($n) else '')"))

    for let in _children(root, "let"):
        _let(sheet, let)

    phases = {p.get("id"): p for p in _children(root, "phase")}
    if phase == "#DEFAULT":
        phase = root.get("defaultPhase") or "#ALL"
    if phase != "#ALL" and phase not in phases:
        raise UsageError(f"{path}: no phase {phase!r}; phases: {', '.join(sorted(phases)) or '(none)'}")
    active = None
    if phase != "#ALL":
        active = {a.get("pattern") for a in _children(phases[phase], "active")}

    # patterns may be direct children of schema or (eHDSI ART-DECOR style) of a phase
    patterns: list[tuple[etree._Element, str]] = []
    for c in root:
        if _is(c, "pattern"):
            patterns.append((c, "error"))
        elif _is(c, "phase"):
            default = _PHASE_SEVERITY.get((c.get("id") or "").lower(), "error")
            for p in _children(c, "pattern"):
                if phase == "#ALL" or c.get("id") == phase:
                    patterns.append((p, default))
    if active is not None:
        patterns = [(p, d) for p, d in patterns if p.get("id") in active or p.getparent() is phases[phase]]
    patterns, duplicates = _drop_duplicate_patterns(patterns)

    diagnostics = {d.get("id"): d for d in root.iter() if _is(d, "diagnostic")}

    main = _xsl("template", sheet, match="/")
    out = etree.SubElement(main, "findings")
    asserts: list[AssertInfo] = []

    for pi, (pattern, default_sev) in enumerate(patterns):
        mode = f"M{pi}"
        pid = pattern.get("id") or f"pattern[{pi + 1}]"
        _xsl("apply-templates", out, select="/", mode=mode)
        rules = _children(pattern, "rule")
        pattern_lets = _children(pattern, "let")
        contexts = [r.get("context", "") for r in rules]
        visit = "@*|*" if _needs_attributes(contexts) else "*"
        for ri, rule in enumerate(rules):
            context = rule.get("context")
            if not context:
                raise UsageError(f"{path}: pattern {pid!r} rule {ri + 1} has no context")
            tpl = _xsl("template", sheet, match=context, priority=str(1000 - ri), mode=mode)
            for let in pattern_lets:
                _pattern_let(tpl, let)
            counters = {"assert": 0, "report": 0}
            for item in rule:
                kind = _local(item)
                if kind == "let":
                    _let(tpl, item)
                    continue
                if kind not in ("assert", "report"):
                    continue
                counters[kind] += 1
                test = item.get("test", "")
                text = " ".join("".join(item.itertext()).split())
                sev, success = _severity(kind, item.get("role") or rule.get("role") or "", text, default_sev)
                if success and not include_success:
                    continue
                rid = item.get("id") or f"{pid}/rule[{ri + 1}]/{kind}[{counters[kind]}]"
                info = AssertInfo(rule_id=rid, kind=kind, severity=sev, pattern=pid, context=context, test=test,
                                  role=item.get("role") or "", success=success)
                index = len(asserts)
                asserts.append(info)
                subject = item.get("subject") or rule.get("subject")
                pos = f"f:pos(({subject})[1])" if subject else "f:pos(.)"
                fire_when = f"not({test})" if kind == "assert" else f"({test})"
                if guard_errors:
                    var = _xsl("variable", tpl, name=f"t{index}", as_="xs:boolean?")
                    trial = _xsl("try", var, select=f"boolean({fire_when})")
                    _xsl("catch", trial, select="()")
                    err = _xsl("if", tpl, test=f"empty($t{index})")
                    ef = etree.SubElement(err, "f", a=str(index), p=f"{{{pos}}}", e="1")
                    _xsl("value-of", ef, select="'the rule test raised an XPath error'")
                    cond = _xsl("if", tpl, test=f"$t{index}")
                else:
                    cond = _xsl("if", tpl, test=fire_when)
                f_el = etree.SubElement(cond, "f", a=str(index), p=f"{{{pos}}}")
                _message(f_el, item)
                for did in (item.get("diagnostics") or "").split():
                    if did in diagnostics:
                        _xsl("text", f_el).text = " — "
                        _message(f_el, diagnostics[did])
            _xsl("apply-templates", tpl, select=visit, mode=mode)
        fallback = _xsl("template", sheet, match="/|*", priority="-2", mode=mode)
        _xsl("apply-templates", fallback, select=visit, mode=mode)
        if visit != "*":
            _xsl("template", sheet, match="@*", priority="-2", mode=mode)

    xslt = etree.tostring(sheet, encoding="unicode")
    return CompiledSchematron(
        name=name or path.stem, source=str(path), sha256=hashlib.sha256(raw).hexdigest(), query_binding=binding,
        phase=phase, include_success=include_success, xslt=xslt, asserts=asserts,
        duplicate_patterns_dropped=duplicates)


def _drop_duplicate_patterns(
        patterns: list[tuple[etree._Element, str]]) -> tuple[list[tuple[etree._Element, str]], int]:
    """ART-DECOR output repeats a template's pattern once per place it is used (PatientSummary.sch
    has 15 ids repeated up to 5 times, byte-identical apart from xml:base). Running each copy only
    repeats the same findings, so identical copies are dropped. Same id with different content is
    kept, and its rule ids get a ``#n`` suffix so they stay unique."""
    seen: set[bytes] = set()
    ids: dict[str, int] = {}
    kept: list[tuple[etree._Element, str]] = []
    dropped = 0
    for pattern, sev in patterns:
        clone = copy.deepcopy(pattern)
        clone.attrib.pop("{http://www.w3.org/XML/1998/namespace}base", None)
        key = etree.tostring(clone, method="c14n")
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        pid = pattern.get("id")
        if pid:
            ids[pid] = ids.get(pid, 0) + 1
            if ids[pid] > 1:
                pattern = copy.deepcopy(pattern)
                pattern.set("id", f"{pid}#{ids[pid]}")
        kept.append((pattern, sev))
    return kept, dropped


# ---- on-disk cache ---------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where compiled Schematron is kept: $CONFORMANCE_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache."""
    env = os.environ.get("CONFORMANCE_CACHE_DIR")
    if env:
        return Path(env) / "cda"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ehds-conformance" / "cda"


def load_or_compile(path: Path, *, name: str = "", phase: str = "#ALL", include_success: bool = False,
                    cache: Path | None | bool = True) -> CompiledSchematron:
    """Compile once; reuse the cached stylesheet while the .sch bytes and compiler version match.
    The cache key covers every included file too (by hashing them all)."""
    path = Path(path).resolve()
    if cache is False or cache is None:
        return compile_schematron(path, name=name, phase=phase, include_success=include_success)
    folder = cache_dir() if cache is True else Path(cache)
    digest = hashlib.sha256()
    digest.update(COMPILER_VERSION.encode())
    digest.update(f"|{phase}|{include_success}|".encode())
    digest.update(path.read_bytes())
    for sub in sorted(path.parent.rglob("*.sch")):
        if sub != path:
            digest.update(sub.name.encode() + hashlib.sha256(sub.read_bytes()).digest())
    key = digest.hexdigest()[:32]
    target = folder / f"{name or path.stem}-{key}.json"
    if target.is_file():
        try:
            cached = CompiledSchematron.from_json(json.loads(target.read_text("utf-8")))
        except (ValueError, TypeError, KeyError):
            pass  # a damaged cache entry is rebuilt below
        else:
            # The key covers the bytes, not the place: the same Schematron compiled from another
            # checkout or virtualenv is reused, but what sits beside it (waivers.json) must be read
            # from this copy, never from a folder that may since have moved or been deleted.
            return replace(cached, source=str(path))
    compiled = compile_schematron(path, name=name, phase=phase, include_success=include_success)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(compiled.to_json()), "utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only home must not stop validation; we just compile again next time
    return compiled


__all__ = ["AssertInfo", "CompiledSchematron", "cache_dir", "compile_schematron", "load_or_compile"]
