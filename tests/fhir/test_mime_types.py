"""Media types (urn:ietf:bcp:13, the required binding of Attachment.contentType and Binary.contentType) are checked
by grammar, as the HL7 terminology server checks them: type/subtype, parameters allowed."""

from __future__ import annotations

import pytest

from conformance.fhir.mime_types import media_type_problem

VALID = ["application/pdf", "text/plain", "application/fhir+json", "image/jpg", "application/x-hl7-cda-level-one+xml",
         "text/plain; charset=UTF-8", "text/html;charset=utf-8", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "audio/mpeg", "multipart/related; type=\"application/dicom\""]
INVALID = {"pdf": "has no '/'", "ASCII Text": "has no '/'", "application/": "is not", "/pdf": "is not",
           "text/plain/x": "is not", "image/ jpeg": "is not", "": "has no '/'"}


@pytest.mark.parametrize("code", VALID)
def test_media_types(code):
    assert media_type_problem(code) is None


@pytest.mark.parametrize(("code", "why"), sorted(INVALID.items()))
def test_not_media_types_say_why(code, why):
    problem = media_type_problem(code)
    assert problem is not None and why in problem


@pytest.mark.parametrize(("content_type", "error"), [("application/pdf", False), ("text/plain; charset=UTF-8", False),
                                                      ("pdf", True), ("ASCII Text", True)])
def test_an_attachment_content_type_is_a_media_type(validator, content_type, error):
    doc = {"resourceType": "DocumentReference", "status": "current",
           "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
           "content": [{"attachment": {"contentType": content_type}}]}
    issues = validator.validate(doc)
    assert [i.location for i in issues if i.is_error] == (
        ["DocumentReference.content[0].attachment.contentType"] if error else [])
    assert not [i for i in issues if i.rule == "terminology.not-checked-offline"]


@pytest.mark.parametrize(("fmt", "error"), [("json", False), ("xml", False), ("ttl", False),
                                            ("application/fhir+json", False), ("jsn", True)])
def test_capability_statement_formats_take_the_short_names_too(validator, fmt, error):
    """CapabilityStatement.format is "xml | json | ttl | mime type" by its definition, as the reference validator
    reads it."""
    cs = {"resourceType": "CapabilityStatement", "status": "active", "date": "2024-01-01", "kind": "instance",
          "fhirVersion": "4.0.1", "format": [fmt], "implementation": {"description": "x"}}
    found = [i.location for i in validator.validate(cs) if i.is_error and i.location.endswith(".format[0]")]
    assert found == (["CapabilityStatement.format[0]"] if error else [])
