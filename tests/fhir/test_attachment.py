"""Attachment data rules as the HL7 reference validator applies them to R4: the stated size and SHA-1 hash must
match the decoded data, and base64 with white space is accepted with a warning (RFC 4648)."""

from __future__ import annotations

import base64
import hashlib

import pytest

TEXT = b"This is the content of a test attachment. It is long enough that its base64 form is wrapped."
CLEAN = base64.b64encode(TEXT).decode()
WRAPPED = "\r\n".join(CLEAN[i:i + 76] for i in range(0, len(CLEAN), 76))
SHA1 = base64.b64encode(hashlib.sha1(TEXT).digest()).decode()  # noqa: S324 - R4 defines Attachment.hash as SHA-1
OTHER_SHA1 = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()  # noqa: S324


def _parameters(**attachment: object) -> dict:
    return {"resourceType": "Parameters", "parameter": [
        {"name": "attachment", "valueAttachment": {"contentType": "text/plain", **attachment}}]}


def _found(validator, resource: dict) -> set[tuple[str, str, str]]:
    return {(i.severity, i.rule, i.location) for i in validator.validate(resource)}


AT = "Parameters.parameter[0].valueAttachment"


@pytest.mark.parametrize(("attachment", "expected"), [
    ({"data": CLEAN, "size": len(TEXT), "hash": SHA1}, set()),
    ({"data": CLEAN, "size": len(TEXT) + 1}, {("error", "attachment.size", AT)}),
    ({"data": CLEAN, "hash": OTHER_SHA1}, {("error", "attachment.hash", AT)}),
    ({"data": CLEAN, "size": 1, "hash": OTHER_SHA1}, {("error", "attachment.size", AT),
                                                       ("error", "attachment.hash", AT)}),
    # a stated hash with white space in it is still the same hash
    ({"data": CLEAN, "hash": SHA1[:8] + " " + SHA1[8:]}, {("warning", "type.base64Binary.whitespace", f"{AT}.hash")}),
    # wrapped base64 decodes to the same content: only the RFC 4648 warning
    ({"data": WRAPPED, "size": len(TEXT), "hash": SHA1},
     {("warning", "type.base64Binary.whitespace", f"{AT}.data")}),
    ({"data": " " + CLEAN + "\t", "hash": OTHER_SHA1},
     {("warning", "type.base64Binary.whitespace", f"{AT}.data"), ("error", "attachment.hash", AT)}),
    # data that is not base64 is one error, at the data: no size or hash finding follows from it
    ({"data": CLEAN[:-3] + "!==", "size": 1, "hash": OTHER_SHA1}, {("error", "type.base64Binary", f"{AT}.data")}),
    # no data: nothing to compare the size and hash with
    ({"url": "http://example.org/a.txt", "size": 1, "hash": OTHER_SHA1}, set()),
])
def test_attachment_size_hash_and_white_space(validator, attachment, expected):
    assert _found(validator, _parameters(**attachment)) == expected


def test_the_hash_message_gives_both_digests(validator):
    [found] = [i for i in validator.validate(_parameters(data=CLEAN, hash=OTHER_SHA1)) if i.is_error]
    assert f"stated: '{OTHER_SHA1}', actual: '{SHA1}'" in found.message


def test_white_space_in_any_base64_binary_is_a_warning(validator):
    binary = {"resourceType": "Binary", "contentType": "text/plain", "data": WRAPPED}
    assert _found(validator, binary) == {("warning", "type.base64Binary.whitespace", "Binary.data")}


@pytest.mark.parametrize(("attachment", "warned"), [
    ({"title": "a title alone"}, True),
    ({"title": "x", "size": 3}, True),
    ({"title": "x", "contentType": "application/pdf"}, False),
    ({"title": "x", "language": "fr"}, False),
    ({"url": "http://example.org/a.pdf"}, False),
])
def test_an_attachment_without_content_says_at_least_what_it_would_hold(validator, attachment, warned):
    resource = {"resourceType": "Communication", "status": "completed", "payload": [{"contentAttachment": attachment}]}
    found = {(i.severity, i.location) for i in validator.validate(resource) if i.rule == "attachment.no-content"}
    assert found == ({("warning", "Communication.payload[0].contentAttachment")} if warned else set())
