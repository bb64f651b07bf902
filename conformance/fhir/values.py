"""Value helpers shared by the walker and the rule modules: issue construction, JSON-value
comparison with FHIR's fixed/pattern semantics, short renderings for messages.

They depend on nothing but the issue type and the primitive formats (`primitives`, a leaf), so every rule
module can use them without importing the walker (the imports of `conformance/fhir` point one way; see tests/fhir/test_import_graph.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

import orjson

from conformance.fhir.primitives import decode_base64
from conformance.issues import ValidationIssue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.structure import Elem

SOURCE = "conformance.fhir"


def issue(severity: str, code: str, location: str, message: str, rule: str, source: str = "") -> ValidationIssue:
    """A ValidationIssue from the FHIR validator (`source` defaults to the validator's name)."""
    return ValidationIssue(severity, code, location, message, rule, source or SOURCE)  # type: ignore[arg-type]


def as_list(value: Any) -> list[Any] | tuple[()]:
    """A JSON array property as a list; anything else (a wrong JSON type, reported elsewhere) as empty."""
    return value if isinstance(value, list) else ()


def hashable(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def from_note(elem: Elem) -> str:
    """' (from <profile>)' for messages about a rule of a profile element."""
    return f" (from {elem.sd_url})" if elem.sd_url else ""


def short(value: Any, limit: int = 120) -> str:
    """A JSON rendering of `value` cut to `limit` characters, for messages."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def equal(a: Any, b: Any) -> bool:
    """JSON equality as FHIR means it: booleans are not numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return a == b


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern appears in the value, arrays by containment."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and matches_pattern(value[k], pv) for k, pv in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            value = [value]
        return all(any(matches_pattern(v, pv) for v in value) for pv in pattern)
    return equal(value, pattern)


def attachment_data(val: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """An Attachment's `size` must be the decoded length of its `data`, and its `hash` the SHA-1 of that data
    (R4: "the calculated hash of the data using SHA-1, represented using base64"), as the reference validator
    checks. Data that does not decode is reported by its own base64Binary check, not again here. An Attachment
    with neither data nor url should at least say what it would hold (contentType or language): a warning."""
    data, size, stated = val.get("data"), val.get("size"), val.get("hash")
    if not val.keys() & {"data", "_data", "url", "_url", "contentType", "_contentType", "language", "_language"}:
        sink.append(issue("warning", "invalid", loc, "Attachments have data and/or url, or else SHOULD have either "
                          "contentType and/or language (hint: give the content, a link to it, or at least its media "
                          "type)", "attachment.no-content"))
    content = decode_base64(data) if isinstance(data, str) else None
    if content is None:  # no data, or data its own base64Binary check reports
        return
    if isinstance(size, int) and not isinstance(size, bool) and len(content) != size:
        sink.append(issue("error", "structure", loc, f"Stated Attachment Size {size} does not match actual attachment "
                          f"size {len(content)}", "attachment.size"))
    stated_digest = decode_base64(stated) if isinstance(stated, str) else None
    if stated_digest is not None:  # (a hash that is no base64 is reported by its own base64Binary check)
        digest = hashlib.sha1(content).digest()
        if stated_digest != digest:
            sink.append(issue("error", "structure", loc, f"The hash of the data did not match the data (stated: "
                              f"'{stated}', actual: '{base64.b64encode(digest).decode()}') (hint: Attachment.hash "
                              "is the base64 of the SHA-1 of the decoded data)", "attachment.hash"))


#: primitive types with rules on their text beyond the format (`text_rules`)
TEXT_RULE_TYPES = frozenset({"base64Binary", "markdown"})
_WHITE_SPACE = re.compile(r"\s")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")


def text_rules(val: str, tcode: str, no_html_in_markdown: bool, loc: str, sink: list[ValidationIssue]) -> None:
    """What the reference validator says of a well-formed value's text: base64 with white space is accepted with
    a warning (RFC 4648: none is allowed, though readers are encouraged to skip it); markdown with an HTML tag is
    an error where the settings forbid HTML in markdown."""
    if tcode == "base64Binary":
        if _WHITE_SPACE.search(val) is not None:
            sink.append(issue("warning", "invalid", loc, "Base64 encoded values SHOULD not contain any whitespace "
                              "(per RFC 4648). Note that non-validating readers are encouraged to accept whitespace "
                              "anyway (hint: write the base64 on one line, without spaces)",
                              "type.base64Binary.whitespace"))
    elif no_html_in_markdown and _HTML_TAG.search(val):
        sink.append(issue("error", "value", loc, "The markdown contains HTML, which the settings do not allow (hint: "
                          "write it as plain markdown)", "markdown.html"))


def fixed_diff(val: Any, fixed: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """Report a fixed-value mismatch where it is: the differing or unexpected property, like the reference validator."""
    if isinstance(val, dict) and isinstance(fixed, dict):
        for k, fv in fixed.items():
            if k not in val:
                sink.append(issue("error", "value", loc, f"missing {k!r}: the value must be exactly "
                                  f"{short(fixed)} (fixed in {elem.id})", elem.id, elem.sd_url))
            elif not equal(val[k], fv):
                fixed_diff(val[k], fv, elem, f"{loc}.{k}", sink)
        for k in val:
            if k not in fixed:
                sink.append(issue("error", "value", f"{loc}.{k}", f"unexpected {k!r}: the value must be exactly "
                                  f"{short(fixed)} (fixed in {elem.id})", elem.id, elem.sd_url))
        return
    if isinstance(val, list) and isinstance(fixed, list) and len(val) == len(fixed):
        for i, (a, b) in enumerate(zip(val, fixed)):
            if not equal(a, b):
                fixed_diff(a, b, elem, f"{loc}[{i}]", sink)
        return
    sink.append(issue("error", "value", loc, f"value must be exactly {short(fixed)} (fixed in {elem.id}), found "
                      f"{short(val)}", elem.id, elem.sd_url))


def did_you_mean(word: str, options: list[str]) -> str:
    """' (did you mean 'x'?)' from the project's one suggester, or ''."""
    from conformance.suggest import did_you_mean as _suggest

    close = _suggest(word, options)
    return f" (did you mean {close!r}?)" if close else ""
