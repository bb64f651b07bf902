"""Narrative XHTML checks (txt-1 / txt-2): well-formed, a <div> in the XHTML namespace, allowed content only.

Follows the R4 rules: no <script>, <form>, <object>, <iframe>..., no event (on*) attributes, and
some non-whitespace content. One parse per div (`div_facts`) also gives the internal links and anchors the
narrative rules need; results are cached by text because bundles repeat narratives.
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
#: the elements the reference validator allows in a narrative (its XHTML validator's list). Its attribute list is
#: not applied: samples it passed use others (`<tr idref=...>` in a validated NZ patient summary)
_ALLOWED = frozenset(["a", "abbr", "acronym", "address", "area", "b", "bdo", "big", "blockquote", "br", "caption",
                      "cite", "code", "col", "colgroup", "dd", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
                      "h5", "h6", "hr", "i", "img", "kbd", "li", "map", "ol", "p", "pre", "q", "samp", "small", "span",
                      "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "ul", "var"])
#: block elements, which may not sit inside a <p>
_BLOCKS = frozenset(["div", "blockquote", "table", "ol", "ul", "p"])
#: hyperlink schemes: active content, and names that are no location a reader can follow
_ACTIVE_SCHEMES = frozenset(["javascript", "vbscript"])
_LITERAL_SCHEMES = frozenset(["urn", "cid"])
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


_ALLOWED_TAGS = frozenset(f"{{{XHTML_NS}}}{name}" for name in _ALLOWED)  # the allowed elements, as lxml names them
_DIV = f"{{{XHTML_NS}}}div"
_IN_P = f".//{{{XHTML_NS}}}p//*"  # every element inside a paragraph

#: one internal link of a narrative: (kind 'a'|'img', '#fragment', xpath, text)
Link = tuple[str, str, str, str]


def check_xhtml(div: str) -> tuple[str, ...]:
    """Problems found in a narrative div (empty tuple = fine)."""
    return div_facts(div)[0]


@lru_cache(maxsize=4096)
def div_facts(div: str) -> tuple[tuple[str, ...], tuple[Link, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """One parse of a narrative div for every question asked of it: its problems (`check_xhtml`, txt-1: elements
    and attributes), its internal links and the anchors a fragment may name (element ids and <a name>, for
    `narrative.check_narrative_links`), and its other faults as (rule, message): a block inside a paragraph, a
    hyperlink that is empty or of a scheme no reader can follow. Not well-formed: that one problem and nothing
    else. Cached by text: bundles repeat narratives."""
    try:
        root = etree.fromstring(div.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        return (f"the narrative is not well-formed XHTML: {exc}",), (), (), ()
    problems: list[str] = []
    links: list[Link] = []
    anchors: list[str] = []
    faults: list[tuple[str, str]] = []
    if root.tag != _DIV:
        problems.append("the narrative must be a <div> in the XHTML namespace (xmlns=\"http://www.w3.org/1999/xhtml\")")
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        name = tag.rpartition("}")[2]
        if tag not in _ALLOWED_TAGS:
            problems.append(f"element <{name}> is not allowed in a narrative")
        if el.attrib:
            for attr in el.attrib:
                a = attr.rpartition("}")[2]
                if a.lower().startswith("on"):
                    problems.append(f"event attribute {a} is not allowed in a narrative")
            if el.get("id"):
                anchors.append(el.get("id"))
            if name == "a" and el.get("name"):
                anchors.append(el.get("name"))
            target = el.get("href") if name == "a" else el.get("src") if name == "img" else None
            if target is not None and (target.startswith("#") and target != "#" or name == "a" and _bad_href(target)):
                path = "/".join(a.tag.rpartition("}")[2] for a in reversed(list(el.iterancestors()))
                                if isinstance(a.tag, str))
                xpath, text = f"{path}/{name}" if path else name, " ".join("".join(el.itertext()).split())
                if target.startswith("#"):
                    links.append((name, target, xpath, text))
                elif not target:
                    faults.append(("narrative.link-empty", f"The hyperlink at '{xpath}' for '{text}' is empty "
                                   "(hint: give the href a URL or a #fragment, or remove the <a>)"))
                else:
                    scheme = target.partition(":")[0]
                    faults.append(("narrative.link-scheme", f"Hyperlink scheme '{scheme}' in '{target}' at '{xpath}' "
                                   f"for '{text}' is not a valid hyperlinkable scheme (hint: " + (
                                       "active content is not allowed in a narrative" if scheme in _ACTIVE_SCHEMES
                                       else "a URN names something; link to where a reader can see it, or to a "
                                       "#fragment of this resource") + ")"))
    for inner in root.iterfind(_IN_P) if "<p" in div else ():  # no block inside a paragraph
        name = inner.tag.rpartition("}")[2] if isinstance(inner.tag, str) else ""
        if name in _BLOCKS:
            faults.append(("narrative.block-in-paragraph", f"Illegal element name inside in a paragraph in the XHTML "
                           f"('{name}') (hint: a <{name}> is a block; close the <p> before it or use a <div>)"))
    # some text that is not white space (the first such piece settles it: no need to join them all)
    if not any(text.strip() for text in root.itertext()) and root.find(f".//{{{XHTML_NS}}}img") is None:
        problems.append("the narrative has no non-whitespace content")
    return tuple(problems), tuple(links), tuple(anchors), tuple(faults)


def _bad_href(href: str) -> bool:
    """Is an <a href> empty, or a URL whose scheme runs active content or names no place to go?"""
    if not href:
        return True
    scheme, colon, rest = href.partition(":")
    return bool(colon and rest) and scheme in _ACTIVE_SCHEMES | _LITERAL_SCHEMES
