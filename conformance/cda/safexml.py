"""Parse XML that came from outside (a SUT, a user's file) without letting it reach anything else.

Why a module of its own: a CDA document is untrusted input. A DTD can declare
external entities (XXE: read /etc/passwd, reach the network) or nested entities
that expand exponentially (billion laughs). CDA R2 never needs a DTD, so the
simplest safe rule is to refuse any document that has one, *before* a parser
sees it, and to parse with every loading feature switched off as a second wall.

Refusals are :class:`UnsafeXml` with an issue code (``security``, ``too-costly``,
``structure``); :func:`conformance.cda.validate_document` turns them into one
fatal :class:`~conformance.issues.ValidationIssue`, so a check records the
refusal as a finding instead of crashing.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

#: Largest document accepted, in bytes. eHDSI pivot documents are well under
#: 1 MiB; a level-1 document with an embedded PDF can reach a few MiB.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)


class UnsafeXml(Exception):
    """The input was refused before or while parsing. `code` is a FHIR issue type."""

    def __init__(self, code: str, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


class _RefuseAll(etree.Resolver):
    """Every attempt by libxml2 to load an external resource ends here and fails."""

    def resolve(self, system_url, public_id, context):
        raise UnsafeXml("security", f"the document tried to load an external resource ({system_url!r}); refused")


def _prolog_text(data: bytes) -> bytes:
    """The bytes before the root element, transcoded to ASCII-compatible form when the
    document is UTF-16/32, so the DOCTYPE scan also sees through those encodings."""
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                      (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(name, errors="replace").encode("utf-8", errors="replace")
    if len(data) > 1 and data[0] == 0 and data[1] == 0x3C:  # UTF-16 BE without BOM
        return data.decode("utf-16-be", errors="replace").encode("utf-8", errors="replace")
    if len(data) > 1 and data[0] == 0x3C and data[1] == 0:  # UTF-16 LE without BOM
        return data.decode("utf-16-le", errors="replace").encode("utf-8", errors="replace")
    return data


def refuse_dtd(data: bytes) -> None:
    """Refuse a document type declaration or entity declaration anywhere in the input.

    Scanning the whole input (not only the prolog) is deliberate: a DOCTYPE after the
    root start tag is malformed anyway, and a CDA document has no reason to contain
    the literal text ``<!DOCTYPE`` or ``<!ENTITY`` outside a comment or CDATA section.
    """
    text = _prolog_text(data)
    m = _DOCTYPE.search(text) or _ENTITY.search(text)
    if m:
        line = text.count(b"\n", 0, m.start()) + 1
        what = "document type declaration (DTD)" if b"DOCTYPE" in m.group(0).upper() else "entity declaration"
        raise UnsafeXml(
            "security",
            f"line {line}: the document contains a {what}; DTDs and entities are refused "
            "(they enable external-entity (XXE) reads and entity-expansion attacks, and CDA R2 never needs them). "
            "Fix: remove the <!DOCTYPE ...> declaration and write characters literally or as numeric references.",
            line=line,
        )


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,  # keeps libxml2's depth and text-node limits
        remove_blank_text=False,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseAll())
    return parser


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse `data` as an untrusted XML document or raise :class:`UnsafeXml`.

    Nothing outside `data` is read: no DTD, no external entity, no XInclude, no network.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected the document as bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise UnsafeXml(
            "too-costly",
            f"document is {len(data):,} bytes, over the limit of {max_bytes:,} bytes; refused without parsing. "
            "Fix: send a smaller document, or raise the limit (max_bytes / --max-bytes) if this size is expected.",
        )
    if not data.strip():
        raise UnsafeXml("structure", "document is empty")
    refuse_dtd(data)
    try:
        root = etree.fromstring(data, _parser())
    except UnsafeXml:
        raise
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        msg = str(exc.msg if hasattr(exc, "msg") else exc)
        if "huge" in msg.lower() or "depth" in msg.lower():
            raise UnsafeXml("too-costly", f"line {line}: {msg}; refused (nesting or text node over the parser limit)",
                            line=line) from None
        raise UnsafeXml("structure", f"line {line}: not well-formed XML: {msg}", line=line) from None
    tree = root.getroottree()
    # Second wall: the scan above should make this unreachable.
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise UnsafeXml("security", "the document has a document type declaration (DTD); refused")
    return tree
