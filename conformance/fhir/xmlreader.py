"""FHIR XML in: read a FHIR R4 XML document into the JSON model the validator walks, with the line:column
of every element, and report what only XML can get wrong.

Why a reader of our own (not a model library): the validator's verdict comes from the StructureDefinitions,
and XML -> JSON needs them too -- which properties repeat (JSON arrays even for one element), which are
primitives (`value` attribute, `_x` for their `id`/extensions), which hold a resource (`contained`,
`Bundle.entry.resource`), what JSON type a primitive has (`integer`, `boolean`, `decimal` are JSON numbers
and booleans). The compiled structures of the validator answer all of that.

XML-only rules reported here: elements out of the order the definition gives, unknown attributes,
text where FHIR allows none, elements outside the FHIR namespace, values that are not of their type's
lexical form (where JSON would carry a number or boolean). Unknown *elements* are carried into the
JSON model under their name, so the validator reports them once, like an unknown JSON property.

Hostile input is refused before any parser runs, with the same rule as CDA (`conformance.cda.safexml`:
no DTD, no entity declarations, a size limit); expat then parses with external entities switched off.

    parsed = parse_fhir_xml(data)            # ParsedXml(resource, positions, issues)
    resource, positions, issues = parsed     # positions: FHIRPath-style path -> (line, column)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple
from xml.parsers import expat

from conformance.fhir.positions import Positions
from conformance.fhir.primitives import PRIMITIVE_TYPES
from conformance.fhir.values import issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_RESOURCE_TYPES_ABSTRACT = frozenset({"Resource", "DomainResource"})
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
WRONG_TYPE = "xml.wrong-type"  # rule of a reader issue whose location the validator's findings follow from
#: reader findings that are the cause of whatever the validator then says at the same location
_CAUSES = frozenset({WRONG_TYPE, "xml.value", "xml.text"})
_NUMBER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt", "integer64"})


class FhirXmlError(Exception):
    """The input cannot be read as FHIR XML at all (hostile, not well-formed, not FHIR). `where` is ':line:col'."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0, code: str = "structure") -> None:
        super().__init__(message)
        self.line, self.column, self.code = line, column, code

    @property
    def where(self) -> str:
        return f":{self.line}:{self.column}" if self.line else ""


class ParsedXml(NamedTuple):
    resource: dict[str, Any]
    positions: Positions
    issues: list[ValidationIssue]


class _Node:
    """One XML element: namespace, local name, attributes, content (child nodes and text, in order), position."""

    __slots__ = ("ns", "name", "attrs", "content", "line", "col")

    def __init__(self, ns: str, name: str, attrs: dict[str, str], line: int, col: int) -> None:
        self.ns, self.name, self.attrs, self.line, self.col = ns, name, attrs, line, col
        self.content: list[_Node | str] = []

    def elements(self) -> list[_Node]:
        return [c for c in self.content if isinstance(c, _Node)]

    def text(self) -> str:
        return "".join(c for c in self.content if isinstance(c, str))


def _split(qname: str) -> tuple[str, str]:
    ns, sep, local = qname.rpartition(" ")
    return (ns, local) if sep else ("", qname)


def read_tree(data: bytes, *, max_bytes: int | None = None) -> _Node:
    """Parse untrusted XML into `_Node`s with positions; refuses DTDs and entities (FhirXmlError, code security)."""
    from conformance.cda.safexml import DEFAULT_MAX_BYTES, UnsafeXml, refuse_dtd

    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FhirXmlError(f"document is {len(data):,} bytes, over the limit of {limit:,} bytes; refused without "
                           "parsing", code="too-costly")
    try:
        refuse_dtd(data)
    except UnsafeXml as exc:
        raise FhirXmlError(f"refused: {exc.message}", line=exc.line or 0, column=1 if exc.line else 0,
                           code=exc.code) from None
    p = expat.ParserCreate(namespace_separator=" ")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def no_dtd(*_a: Any) -> None:
        raise FhirXmlError("refused: the document has a document type or entity declaration", code="security",
                           line=p.CurrentLineNumber, column=p.CurrentColumnNumber + 1)

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.ExternalEntityRefHandler = lambda *_a: 0  # never load anything
    stack: list[_Node] = []
    root: list[_Node] = []

    def start(qname: str, attrs: dict[str, str]) -> None:
        ns, local = _split(qname)
        node = _Node(ns, local, attrs, p.CurrentLineNumber, p.CurrentColumnNumber + 1)
        if stack:
            stack[-1].content.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_qname: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            c = stack[-1].content
            if c and isinstance(c[-1], str):
                c[-1] += text
            else:
                c.append(text)

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    p.buffer_text = True
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise FhirXmlError(f"not well-formed XML: {expat.ErrorString(exc.code)}", line=exc.lineno,
                           column=exc.offset + 1) from None
    if not root:
        raise FhirXmlError("no root element")
    return root[0]


def parse_fhir_xml(data: bytes, validator: Any = None) -> ParsedXml:
    """Read FHIR XML into (resource as FHIR JSON model, positions, XML-only issues). Raises FhirXmlError when
    the input is hostile, not well-formed, or has no FHIR resource as its root."""
    if validator is None:
        from conformance.fhir.validator import default_validator

        validator = default_validator()
    root = read_tree(bytes(data))
    if root.ns != FHIR_NS:
        raise FhirXmlError(f"the root element {root.name!r} is not in the FHIR namespace {FHIR_NS} "
                           f"(found {root.ns or 'no namespace'!r})", line=root.line, column=root.col)
    return _Reader(validator).document(root)


def validate_xml(validator: Any, data: bytes, profiles: Iterable[str] = (), *,
                 settings: Any = None) -> list[ValidationIssue]:
    """Validate FHIR XML: read it into the JSON model (refusing hostile XML), add the XML-only findings
    (element order, unknown attributes, value formats), validate, place every issue at its line:column.
    What follows from an element of the wrong type is dropped (its cause is reported). Raises FhirXmlError
    for XML that cannot be read."""
    from conformance.fhir.outcome import with_positions

    parsed = parse_fhir_xml(data, validator)
    below = tuple(i.location for i in parsed.issues if i.rule == WRONG_TYPE)
    at = {i.location for i in parsed.issues if i.rule in _CAUSES}
    found = validator.validate(parsed.resource, profiles, settings=settings)
    if at:
        found = [i for i in found if i.location not in at and not any(
            i.location.startswith((f + ".", f + "[")) for f in below)]
    return with_positions(list(parsed.issues) + found, parsed.positions)


class _Reader:
    def __init__(self, validator: Any) -> None:
        from conformance.fhir.run import Run

        self.v = validator
        self.run = Run(validator)
        self.positions: Positions = {}
        self.issues: list[ValidationIssue] = []

    def document(self, root: _Node) -> ParsedXml:
        res = self.resource(root, root.name, "")
        self.positions.setdefault("", (root.line, root.col))
        return ParsedXml(res, self.positions, self.issues)

    def _issue(self, severity: str, loc: str, message: str, rule: str, node: _Node) -> None:
        self.issues.append(issue(severity, "value" if rule == "xml.value" else "structure", loc, message, rule))
        self.positions.setdefault(_rel(loc), (node.line, node.col))

    # -- resources ---------------------------------------------------------------------------
    def resource(self, node: _Node, loc: str, path: str) -> dict[str, Any]:
        """A resource element: `resourceType` from the element name, properties from its definition."""
        out: dict[str, Any] = {"resourceType": node.name}
        self.positions.setdefault(path, (node.line, node.col))
        cs = self.v.structure(node.name)
        if cs is None or cs.kind != "resource":
            self._generic_children(node, out, loc, path)  # the validator reports the unknown resource type
            return out
        self._attributes(node, loc, allowed=())
        self._children(node, cs.root, cs.root, out, loc, path, is_resource=True)
        return out

    def _attributes(self, node: _Node, loc: str, allowed: tuple[str, ...]) -> None:
        for qname in node.attrs:
            ns, local = _split(qname)
            if ns == XSI_NS or (ns == "" and local in allowed):
                continue
            self._issue("error", loc, f"Undefined attribute '@{local}' on {node.name} (hint: FHIR XML attributes "
                        "are only value, id, and url on extensions)", "xml.unknown-attribute", node)

    def _text(self, node: _Node, loc: str) -> None:
        text = node.text().strip()
        if text:
            self._issue("error", loc, f"Text should not be present ('{text[:40]}'): FHIR XML carries values in "
                        "the value attribute", "xml.text", node)

    # -- objects -----------------------------------------------------------------------------
    def _children(self, node: _Node, elem: Elem, container: Elem, out: dict[str, Any], loc: str, path: str, *,
                  is_resource: bool = False) -> None:
        """The child elements of `node` into `out`, typed by `container`'s children (XML element names are the
        JSON keys, choices included: valueQuantity)."""
        self._text(node, loc)
        keymap = container.layout().keymap
        order = {name: i for i, name in enumerate(container.children)}
        last = -1
        counts: dict[str, int] = {}
        for child in node.elements():
            name = child.name
            if child.ns != FHIR_NS and not (child.ns == XHTML_NS and keymap.get(name, (None, ""))[1] == "xhtml"):
                self._issue("error", loc, f"Element {name!r} is in namespace {child.ns or 'none'!r}, not FHIR's",
                            "xml.namespace", child)
                continue
            m = keymap.get(name)
            if m is None or name.startswith("_"):
                self._unknown(child, out, loc, path)
                continue
            c_elem, tcode = m
            pos = order.get(c_elem.name, -1)
            if pos < last:
                self._issue("error", f"{loc}.{name}", f"As specified by profile {container.sd_url or elem.sd_url}, "
                            f"Element '{name}' is out of order", "xml.element-order", child)
            last = max(last, pos)
            i = counts.get(name, 0)
            counts[name] = i + 1
            cloc = f"{loc}.{name}[{i}]" if c_elem.is_array else f"{loc}.{name}"
            cpath = f"{path}.{name}[{i}]" if c_elem.is_array else f"{path}.{name}"
            if i == 0:
                self.positions.setdefault(f"{path}.{name}", (child.line, child.col))
            self.positions.setdefault(cpath, (child.line, child.col))
            value, ext = self._value(child, c_elem, tcode, cloc, cpath)
            if c_elem.is_array:
                vals = out.setdefault(name, []) if value is not None or name in out or ext is None else None
                if vals is None:
                    vals = out[name] = [None] * i if i else []
                while len(vals) < i:
                    vals.append(None)
                vals.append(value)
                if ext is not None:
                    exts = out.setdefault("_" + name, [])
                    while len(exts) < i:
                        exts.append(None)
                    exts.append(ext)
                elif "_" + name in out:
                    out["_" + name].append(None)
            else:
                if i > 0:  # a second occurrence of a non-repeating element: keep as an array so max=1 is reported
                    prev = out.get(name)
                    out[name] = (prev if isinstance(prev, list) else [prev]) + [value]
                    continue
                if value is not None:
                    out[name] = value
                if ext is not None:
                    out["_" + name] = ext
        # arrays of primitives whose values are all absent: JSON has only the _x array
        for key in [k for k, v in out.items() if isinstance(v, list) and v and all(x is None for x in v)]:
            if "_" + key in out:
                del out[key]

    def _value(self, node: _Node, elem: Elem, tcode: str, loc: str, path: str) -> tuple[Any, Any]:
        """(JSON value, `_x` object or None) of one element."""
        if tcode in PRIMITIVE_TYPES:
            return self._primitive(node, tcode, loc, path)
        if tcode in _RESOURCE_TYPES_ABSTRACT or (tcode[:1].isupper() and self.run._is_resource_type(tcode)):
            self._attributes(node, loc, allowed=("id",))
            inner = node.elements()
            self._text(node, loc)
            if len(inner) != 1 or inner[0].ns != FHIR_NS:
                self._issue("error", loc, f"{node.name} must contain exactly one resource element, found "
                            f"{len(inner)}", "xml.resource-container", node)
                return ({} if not inner else self.resource(inner[0], loc, path)), None
            return self.resource(inner[0], loc, path), None
        container, _ = self.run._structure_for(elem, tcode)
        obj: dict[str, Any] = {}
        if "value" in node.attrs and tcode != "Extension":
            # a primitive where a complex type belongs: one error for the cause, nothing read below it
            self._issue("error", loc, f"{node.name} is a {tcode}, so it has no value attribute (found "
                        f"value={node.attrs['value'][:40]!r}; wrong type for this element)", WRONG_TYPE, node)
            return obj, None
        self._attributes(node, loc, allowed=("id", "url") if tcode == "Extension" else ("id",))
        if "id" in node.attrs:
            obj["id"] = node.attrs["id"]
        if tcode == "Extension" and "url" in node.attrs:
            obj["url"] = node.attrs["url"]
        self._children(node, elem, container, obj, loc, path)
        return obj, None

    def _primitive(self, node: _Node, tcode: str, loc: str, path: str) -> tuple[Any, Any]:
        if tcode == "xhtml":
            if node.ns != XHTML_NS:
                self._issue("error", loc, f"the narrative div must be in the XHTML namespace {XHTML_NS}",
                            "xml.namespace", node)
            return _serialize_xhtml(node), None
        self._attributes(node, loc, allowed=("value", "id"))
        raw = node.attrs.get("value")
        value: Any = None
        if raw is not None:
            value = self._typed(raw, tcode, loc, node)
        ext: dict[str, Any] | None = None
        extensions = [c for c in node.elements() if c.ns == FHIR_NS and c.name == "extension"]
        others = [c for c in node.elements() if not (c.ns == FHIR_NS and c.name == "extension")]
        self._text(node, loc)
        for c in others:
            self._issue("error", loc, f"Undefined element '{c.name}' in the primitive {node.name} (a primitive "
                        "holds only a value, an id and extensions)", "xml.unknown-element", c)
        if "id" in node.attrs or extensions:
            ext = {}
            if "id" in node.attrs:
                ext["id"] = node.attrs["id"]
            if extensions:
                element = self.v.structure("Element").root
                self._children(_only(node, extensions), element, element, ext, loc, path)
        if value is None and ext is None:
            ext = {}  # <x/>: an element with neither value nor extension (ele-1 reports it)
        return value, ext

    def _typed(self, raw: str, tcode: str, loc: str, node: _Node) -> Any:
        """The JSON value of a value attribute: numbers and booleans where JSON has them."""
        if tcode == "boolean":
            if raw in ("true", "false"):
                return raw == "true"
            self._issue("error", loc, f"'{raw}' is not a valid boolean (true or false)", "xml.value", node)
            return raw
        if tcode in _NUMBER_TYPES:
            if _INTEGER.match(raw):
                return int(raw)
            self._issue("error", loc, f"'{raw}' is not a valid {tcode}", "xml.value", node)
            return raw
        if tcode == "decimal":
            if _DECIMAL.match(raw):
                return float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            self._issue("error", loc, f"'{raw}' is not a valid decimal", "xml.value", node)
            return raw
        return raw

    def _unknown(self, node: _Node, out: dict[str, Any], loc: str, path: str) -> None:
        """An element the definition does not have: carried over generically so the validator reports it."""
        self.positions.setdefault(f"{path}.{node.name}", (node.line, node.col))
        val: Any = node.attrs.get("value")
        if val is None:
            obj: dict[str, Any] = {}
            self._generic_children(node, obj, loc, f"{path}.{node.name}")
            val = obj or {"": None}
        if node.name in out:
            prev = out[node.name]
            out[node.name] = (prev if isinstance(prev, list) else [prev]) + [val]
        else:
            out[node.name] = val

    def _generic_children(self, node: _Node, out: dict[str, Any], loc: str, path: str) -> None:
        for c in node.elements():
            self._unknown(c, out, loc, path)


def _only(node: _Node, children: list[_Node]) -> _Node:
    n = _Node(node.ns, node.name, {}, node.line, node.col)
    n.content = list(children)
    return n


def _rel(loc: str) -> str:
    from conformance.fhir.positions import relative_path

    return relative_path(loc)


def _serialize_xhtml(node: _Node) -> str:
    """The XHTML div as the JSON `div` string (namespace declared on the root, content as written)."""
    parts: list[str] = []

    def esc(text: str, attr: bool = False) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace('"', "&quot;") if attr else text

    def write(n: _Node, top: bool) -> None:
        attrs = []
        if top:
            attrs.append(f'xmlns="{n.ns or XHTML_NS}"')
        elif n.ns and n.ns != XHTML_NS:
            attrs.append(f'xmlns="{n.ns}"')
        for q, v in n.attrs.items():
            ns, local = _split(q)
            name = f"xml:{local}" if ns == XML_NS else local
            attrs.append(f'{name}="{esc(v, True)}"')
        parts.append(f"<{n.name}{(' ' + ' '.join(attrs)) if attrs else ''}")
        if not n.content:
            parts.append("/>")
            return
        parts.append(">")
        for c in n.content:
            if isinstance(c, str):
                parts.append(esc(c))
            else:
                write(c, False)
        parts.append(f"</{n.name}>")

    write(node, True)
    return "".join(parts)
