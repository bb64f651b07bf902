"""Value helpers shared by the walker and the rule modules: issue construction, JSON-value
comparison with FHIR's fixed/pattern semantics, short renderings for messages.

They depend on nothing but the issue type, so every rule module can use them without importing
the walker (the imports of `conformance/fhir` point one way; see tests/fhir/test_import_graph.py).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

import orjson

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


def attachment_size(val: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """Attachment.size must be the decoded length of Attachment.data (as the reference validator checks)."""
    data, size = val.get("data"), val.get("size")
    if not isinstance(data, str) or not isinstance(size, int) or isinstance(size, bool):
        return
    try:
        actual = len(base64.b64decode("".join(data.split()), validate=True))
    except (binascii.Error, ValueError):
        return
    if actual != size:
        sink.append(issue("error", "structure", loc, f"Stated Attachment Size {size} does not match actual attachment "
                          f"size {actual}", "attachment.size"))


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
