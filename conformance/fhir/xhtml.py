"""Narrative XHTML checks (txt-1 / txt-2): well-formed, a <div> in the XHTML namespace, allowed content only.

Follows the R4 rules: no <script>, <form>, <object>, <iframe>..., no event (on*) attributes, and
some non-whitespace content. Results are cached by text because bundles repeat narratives.
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
_ALLOWED = frozenset(["a", "abbr", "acronym", "b", "big", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "ul", "var"])
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@lru_cache(maxsize=4096)
def check_xhtml(div: str) -> tuple[str, ...]:
    """Problems found in a narrative div (empty tuple = fine)."""
    try:
        root = etree.fromstring(div.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        return (f"the narrative is not well-formed XHTML: {exc}",)
    problems: list[str] = []
    if root.tag != f"{{{XHTML_NS}}}div":
        problems.append("the narrative must be a <div> in the XHTML namespace (xmlns=\"http://www.w3.org/1999/xhtml\")")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        ns, _, local = el.tag.rpartition("}")
        if ns.lstrip("{") != XHTML_NS or local not in _ALLOWED:
            problems.append(f"element <{local}> is not allowed in a narrative")
        for attr in el.attrib:
            a = attr.rpartition("}")[2]
            if a.lower().startswith("on"):
                problems.append(f"event attribute {a} is not allowed in a narrative")
    if not "".join(root.itertext()).strip() and root.find(f".//{{{XHTML_NS}}}img") is None:
        problems.append("the narrative has no non-whitespace content")
    return tuple(problems)
