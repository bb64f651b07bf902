"""Profile control over a narrative: the narrative-language-control and narrative-source-control extensions
on a Narrative element definition (the HL7 extensions pack; the reference validator checks both).

- **Language sections** are the `div`s directly under the narrative's root `div` that carry `xml:lang`
  (or `lang`). `narrative-language-control` (repeatable) says `_no`: no sections; `_yes`: at least one;
  `_resource`: a section in the resource's own language; any other code: a section in that language.
- **Source**: with `narrative-source-control`, every piece of text must sit in an element (or below
  one) whose class says where it comes from: boilerplate, generated, extension, additional or original.
  The reference validator reports each unlabelled text as an error, whatever level the extension names.

And, for every narrative, its internal links (`#fragment`) must resolve (`check_narrative_links`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lxml import etree

from conformance.fhir.values import as_list, issue
from conformance.fhir.xhtml import div_facts

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SOURCES = frozenset({"boilerplate", "generated", "extension", "additional", "original"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@lru_cache(maxsize=1024)
def _read(div: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(languages of the sections, texts not labelled with a source class), or None when not well-formed."""
    try:
        root = etree.fromstring(div.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError:
        return None
    langs = []
    for child in root:
        if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "div":
            lang = child.get(_XML_LANG) or child.get("lang")
            if lang:
                langs.append(lang)
    unlabelled: list[str] = []

    def labelled(el: Any) -> bool:
        return bool(set((el.get("class") or "").split()) & _SOURCES)

    def visit(el: Any, covered: bool) -> None:
        covered = covered or labelled(el)
        if not covered and el.text and el.text.strip():
            unlabelled.append(" ".join(el.text.split()))
        for child in el:
            if isinstance(child.tag, str):
                visit(child, covered)
            if not covered and child.tail and child.tail.strip():
                unlabelled.append(" ".join(child.tail.split()))

    visit(root, False)
    return tuple(langs), tuple(unlabelled)


def check_narrative_control(run: RunContext, val: dict[str, Any], elem: Elem, loc: str,
                            sink: list[ValidationIssue]) -> None:
    div = val.get("div")
    read = _read(div) if isinstance(div, str) else None
    if read is None:
        return  # no narrative text, or not well-formed: txt-1 says it
    langs, unlabelled = read
    profile = f"StructureDefinition[{elem.sd_url}]"
    found = ", ".join(sorted(set(langs)))
    for kind, code in elem.narrative_control:
        if kind == "source":
            for text in unlabelled:
                sink.append(issue("error", "business-rule", loc, f"The xhtml node at '{text}' does not have a class "
                                  "attribute to indicate its source (boilerplate, generated, or original) and this is "
                                  f"required by the profile {profile}", "narrative.source", elem.sd_url))
        elif code == "_no":
            if langs:
                sink.append(issue("error", "business-rule", loc, f"The xhtml has some language sections ({found}), but "
                                  f"language sections are prohibited in this context by the profile {profile}",
                                  "narrative.language", elem.sd_url))
        elif code == "_yes":
            if not langs:
                sink.append(issue("error", "business-rule", loc, "The xhtml has no language sections, but language "
                                  f"sections are required in this context by the profile {profile}",
                                  "narrative.language", elem.sd_url))
        else:
            lang = code
            if code == "_resource":
                res = run.resources[-1][0] if run.resources else {}
                lang = res.get("language") if isinstance(res.get("language"), str) else None
                if lang is None:
                    continue
            if lang not in langs:
                which = "the resource language" if code == "_resource" else "the language"
                sink.append(issue("error", "business-rule", loc, f"The profile {profile} requires a section in the "
                                  f"narrative for {which} ({lang}), but it was not found (found {found or 'none'})",
                                  "narrative.language", elem.sd_url))


# -- internal links -------------------------------------------------------------------------------
_CONTAINED_TAIL = re.compile(r"\.contained\[\d+\]$")


def _anchors(node: Any, out: dict[str, int]) -> None:
    """Every id a fragment may name inside `node`: element and resource ids, narrative ids and anchor names."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "id" and isinstance(v, str):
                out[v] = out.get(v, 0) + 1
            elif k == "div" and isinstance(v, str):
                for a in div_facts(v)[2]:
                    out[a] = out.get(a, 0) + 1
            elif isinstance(v, (dict, list)):
                _anchors(v, out)
    elif isinstance(node, list):
        for v in node:
            _anchors(v, out)


def check_narrative_links(run: RunContext, div: str, loc: str, sink: list[ValidationIssue]) -> None:
    """An internal link of a narrative (`<a href="#x">`, `<img src="#x">`) must name something in the resource
    -- an element or contained resource id, an id or anchor name in a narrative -- or, when there is none,
    in the Bundle the resource is in, as the reference validator resolves them. The div's other faults beyond
    txt-1 (`xhtml.div_facts`: a block inside a paragraph, an empty hyperlink or one to a urn:/javascript: URL)
    are reported here too."""
    _problems, links, _anchors, faults = div_facts(div)
    for rule, message in faults:
        sink.append(issue("error", "invalid", loc, message, rule))
    if not links or _root(run) is None:
        return
    for kind, target, xpath, text in links:
        if not _fragment_found(run, target[1:]):
            what = f"Hyperlink '{target}' at '{xpath}' for '{text}'" if kind == "a" else \
                f"Image source '{target}' at '{xpath}'"
            sink.append(issue("error", "invalid", loc, f"{what} does not resolve (hint: the fragment must be the id "
                              "of an element or contained resource, or an id / anchor name in the narrative)",
                              "narrative.link"))


def _root(run: RunContext) -> dict[str, Any] | None:
    """The resource a fragment of the narrative being walked is resolved in: the innermost one not contained."""
    return next((r for r, rloc in reversed(run.resources) if not _CONTAINED_TAIL.search(rloc)), None)


def _fragment_found(run: RunContext, fragment: str) -> bool:
    """Does `#fragment` name something in the resource being walked or, failing that, in its Bundle (as the
    reference validator resolves narrative links and textLink data)?"""
    root = _root(run)
    if root is None:
        return False
    cache: dict[int, dict[str, int]] = run.__dict__.setdefault("_narrative_anchors", {})
    return bool(_count(cache, root, fragment) or (run.bundles and _count(cache, run.bundles[-1].bundle, fragment)))


def _count(cache: dict[int, dict[str, int]], node: dict[str, Any], fragment: str) -> int:
    anchors = cache.get(id(node))
    if anchors is None:
        anchors = cache[id(node)] = {}
        _anchors(node, anchors)
    return anchors.get(fragment, 0)


TEXT_LINK = "http://hl7.org/fhir/StructureDefinition/textLink"


def check_text_links(run: RunContext, narrative: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """A `textLink` extension on a Narrative ties a piece of the narrative (`htmlid`: an id in its div) to the
    data it shows (`data`: `#id` of an element or resource, found as narrative links are). Both ends must exist,
    as the reference validator checks them."""
    extensions = narrative.get("extension")
    if not isinstance(extensions, list):
        return
    div = narrative.get("div")
    ids = set(div_facts(div)[2]) if isinstance(div, str) else set()
    has_root = _root(run) is not None
    for ext in extensions:
        if not isinstance(ext, dict) or ext.get("url") != TEXT_LINK:
            continue
        parts = {e.get("url"): e for e in as_list(ext.get("extension")) if isinstance(e, dict)}
        htmlid = (parts.get("htmlid") or {}).get("valueString")
        if isinstance(htmlid, str) and isinstance(div, str) and htmlid not in ids:
            sink.append(issue("error", "invalid", loc, f"The html id '{htmlid}' was not found in the xhtml (hint: "
                              "textLink.htmlid names an id of an element of this narrative's div)", "narrative.textlink"))
        data = (parts.get("data") or {}).get("valueUri")
        if isinstance(data, str) and data.startswith("#") and has_root and not _fragment_found(run, data[1:]):
            sink.append(issue("error", "invalid", loc, f"The target of the textLink data reference '{data}' was not "
                              "found in the resource (hint: the fragment must be the id of an element or resource)",
                              "narrative.textlink-data"))
