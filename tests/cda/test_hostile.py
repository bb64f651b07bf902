"""Hostile XML is refused with one clear fatal finding, and nothing outside the input is read.

How "nothing read" is shown: (1) the refusal happens before any XML parser runs (the parser
entry point is replaced by one that fails the test if called); (2) the external entity points
at a file holding a secret marker, and the marker appears nowhere in the findings; (3) as the
second wall, the parser settings alone (bypassing the DTD scan) do not pull the file in either.
"""

from __future__ import annotations

import codecs

import pytest
from lxml import etree

from conformance.cda import DEFAULT_MAX_BYTES, UnsafeXml, looks_like_cda, parse_untrusted, safexml, validate_document

MARKER = "S3CRET-MARKER-7f1c"
CDA_OPEN = b'<ClinicalDocument xmlns="urn:hl7-org:v3">'


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    return path


def _xxe(path) -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "'
            + path.as_uri().encode() + b'">]>\n' + CDA_OPEN + b"<title>&xxe;</title></ClinicalDocument>")


def _billion_laughs() -> bytes:
    ents = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
    return (b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [' + ents + b"]>\n"
            + CDA_OPEN + b"<title>&l9;</title></ClinicalDocument>")


def _external_dtd(path) -> bytes:
    return b'<!DOCTYPE ClinicalDocument SYSTEM "' + path.as_uri().encode() + b'">\n' + CDA_OPEN + b"</ClinicalDocument>"


def _parameter_entity(path) -> bytes:
    return (b'<!DOCTYPE ClinicalDocument [<!ENTITY % p SYSTEM "' + path.as_uri().encode() + b'"> %p;]>\n'
            + CDA_OPEN + b"</ClinicalDocument>")


def _utf16(path) -> bytes:
    text = _xxe(path).decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


HOSTILE = {
    "xxe": _xxe,
    "billion-laughs": lambda _p: _billion_laughs(),
    "external-dtd": _external_dtd,
    "parameter-entity": _parameter_entity,
    "xxe-utf16": _utf16,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_document_is_refused_before_parsing(kind, secret_file, monkeypatch):
    def no_parse(*_a, **_k):
        raise AssertionError("the XML parser ran on a hostile document")

    monkeypatch.setattr(safexml.etree, "fromstring", no_parse)
    issues = validate_document(HOSTILE[kind](secret_file))
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.severity, issue.code, issue.rule) == ("fatal", "security", "cda-hostile-xml")
    assert "refused" in issue.message and "DTD" in issue.message and "line " in issue.message
    assert MARKER not in repr(issues)


@pytest.mark.parametrize("kind", ["xxe", "external-dtd", "parameter-entity"])
def test_parser_settings_alone_do_not_read_external_files(kind, secret_file):
    """Second wall: even if the DTD scan were bypassed, the parser loads nothing external."""
    parser = safexml._parser()
    try:
        root = etree.fromstring(HOSTILE[kind](secret_file), parser)
    except (etree.XMLSyntaxError, UnsafeXml):
        return  # refused by the parser or the refusing resolver: nothing was read
    assert MARKER not in etree.tostring(root, encoding="unicode")


def test_billion_laughs_is_not_expanded_by_the_parser_settings_alone():
    try:
        root = etree.fromstring(_billion_laughs(), safexml._parser())
    except etree.XMLSyntaxError as exc:  # libxml2's own amplification limit
        assert "amplification" in str(exc) or "entity" in str(exc).lower()
        return
    assert len(etree.tostring(root)) < 10_000


def test_xinclude_is_never_processed(secret_file):
    doc = (CDA_OPEN[:-1] + b' xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="'
           + secret_file.as_uri().encode() + b'" parse="text"/></ClinicalDocument>')
    issues = validate_document(doc, schema="cda", schematron="none")
    assert MARKER not in repr(issues)
    assert any(i.rule.startswith("xsd:") for i in issues), "the xi:include element itself is a schema error"


def test_oversize_document_is_refused_without_parsing(monkeypatch):
    monkeypatch.setattr(safexml.etree, "fromstring", lambda *_a, **_k: pytest.fail("parsed an oversize document"))
    data = CDA_OPEN + b"<title>" + b"x" * 2048 + b"</title></ClinicalDocument>"
    issues = validate_document(data, max_bytes=1024)
    assert [(i.severity, i.code, i.rule) for i in issues] == [("fatal", "too-costly", "cda-size-limit")]
    assert "1,024" in issues[0].message and "limit" in issues[0].message


def test_default_size_limit_is_documented_and_generous():
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_deeply_nested_document_is_refused():
    depth = 300  # over libxml2's default nesting limit without huge_tree
    data = CDA_OPEN + b"<a>" * depth + b"</a>" * depth + b"</ClinicalDocument>"
    issues = validate_document(data)
    assert len(issues) == 1 and issues[0].severity == "fatal"
    assert issues[0].code in ("too-costly", "structure")


def test_malformed_document_names_the_line():
    issues = validate_document(b'<?xml version="1.0"?>\n' + CDA_OPEN + b"\n<title>unclosed\n</ClinicalDocument>")
    assert [(i.severity, i.code, i.rule) for i in issues] == [("fatal", "structure", "cda-well-formed")]
    assert issues[0].message.startswith("line ")


def test_empty_and_non_bytes_input():
    assert validate_document(b"  ")[0].code == "structure"
    with pytest.raises(TypeError):
        parse_untrusted("<ClinicalDocument/>")  # type: ignore[arg-type]


def test_not_a_cda_document_is_a_fatal_finding_not_a_crash():
    issues = validate_document(b'<Bundle xmlns="http://hl7.org/fhir"><type value="document"/></Bundle>')
    assert [(i.severity, i.rule) for i in issues] == [("fatal", "cda-root")]
    assert "not a CDA document" in issues[0].message


def test_sniffing_is_safe_on_hostile_input(secret_file):
    assert looks_like_cda(_xxe(secret_file))
    assert looks_like_cda(b"<!-- <Bundle> --><?pi x?>\n<v3:ClinicalDocument xmlns:v3='urn:hl7-org:v3'/>")
    assert not looks_like_cda(b'<Bundle xmlns="http://hl7.org/fhir"/>')
    assert not looks_like_cda(b'{"resourceType": "Bundle"}')
