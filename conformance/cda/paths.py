"""One way to name a place in a CDA document, whichever validator found it.

Findings carry an XPath with indices (``/ClinicalDocument/component[1]/structuredBody[1]``):
elements of the CDA namespace are written without a prefix (as CDA specs write them),
other namespaces with a fixed, documented prefix, so the same node gets the same
location from the XML Schema and the Schematron validators.
"""

from __future__ import annotations

import re

from lxml import etree

CDA_NS = "urn:hl7-org:v3"

#: Prefixes used in locations for namespaces other than CDA's.
PREFIXES: dict[str, str] = {
    "urn:hl7-org:sdtc": "sdtc",
    "urn:hl7-org:pharm": "pharm",
    "urn:epsos-org:ep:medication": "epsos",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://www.w3.org/XML/1998/namespace": "xml",
}


def _qname(ns: str | None, local: str) -> str:
    if not ns or ns == CDA_NS:
        return local
    prefix = PREFIXES.get(ns)
    return f"{prefix}:{local}" if prefix else f"Q{{{ns}}}{local}"


def _element_children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def element_path(el: etree._Element) -> str:
    """XPath with 1-based indices among same-named siblings; the root has no index."""
    steps: list[str] = []
    node = el
    while node is not None:
        q = etree.QName(node)
        parent = node.getparent()
        name = _qname(q.namespace, q.localname)
        if parent is None:
            steps.append(name)
        else:
            index = 1
            for sib in node.itersiblings(preceding=True):
                if isinstance(sib.tag, str) and sib.tag == node.tag:
                    index += 1
            steps.append(f"{name}[{index}]")
        node = parent
    return "/" + "/".join(reversed(steps))


def attribute_path(el: etree._Element, attr_clark: str) -> str:
    q = etree.QName(attr_clark)
    return f"{element_path(el)}/@{_qname(q.namespace, q.localname) if q.namespace else q.localname}"


def element_at_positions(tree: etree._ElementTree, positions: str) -> etree._Element | None:
    """Resolve ``"1/12/1/4"`` (1-based positions among element children, from the root
    element down) to the element. This is what the Schematron runner reports."""
    node: etree._Element | None = None
    for part in positions.strip("/").split("/"):
        if not part:
            continue
        try:
            i = int(part)
        except ValueError:
            return None
        if node is None:
            if i != 1:
                return None
            node = tree.getroot()
            continue
        kids = _element_children(node)
        if not 1 <= i <= len(kids):
            return None
        node = kids[i - 1]
    return node


_LIBXML_STEP = re.compile(r"^(?P<name>\*|[\w.-]+(?::[\w.-]+)?)(?:\[(?P<index>\d+)\])?$")


def element_at_libxml_path(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    """Resolve the node path libxml2 puts on schema errors (``/*/*[12]/epsos:ingredient``).

    In those paths ``*[n]`` counts all element siblings and ``prefix:name[n]`` counts
    siblings with that prefix and name; a step without index is the only such child.
    """
    if not path or not path.startswith("/"):
        return None
    steps = path.strip("/").split("/")
    node: etree._Element | None = None
    for step in steps:
        m = _LIBXML_STEP.match(step)
        if not m:
            return None
        name, index = m.group("name"), int(m.group("index") or 1)
        if node is None:
            node = tree.getroot()
            if index != 1 or not _matches(node, name):
                return None
            continue
        candidates = [c for c in _element_children(node) if _matches(c, name)]
        if not 1 <= index <= len(candidates):
            return None
        node = candidates[index - 1]
    return node


def _matches(el: etree._Element, name: str) -> bool:
    if name == "*":
        return True
    local = etree.QName(el).localname
    if ":" in name:
        prefix, _, lname = name.partition(":")
        return el.prefix == prefix and local == lname
    return el.prefix is None and local == name and etree.QName(el).namespace is None
