"""FHIR R4 primitive types: the JSON type each must have and the regex its value must match.

Regexes are the ones the R4 specification publishes (datatypes.html), anchored. Dates are also
checked for being real calendar dates (2023-02-30 matches the regex but is not a date).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"

REGEX: dict[str, re.Pattern[str]] = {
    "id": re.compile(r"[A-Za-z0-9\-\.]{1,64}"),
    "code": re.compile(r"[^\s]+( [^\s]+)*"),
    "date": re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"),
    "dateTime": re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _TZ + r")?)?)?"),
    "instant": re.compile(_YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _TZ),
    "time": re.compile(_TIME),
    "oid": re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"),
    "uuid": re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    # a uri is any string without white space, except that a urn:uuid: / urn:oid: must be a valid one
    "uri": re.compile(r"(?!urn:uuid:)(?!urn:oid:)\S*|urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                      r"(#\S*)?|urn:oid:[0-2](\.(0|[1-9][0-9]*))+"),
    "url": re.compile(r"\S*"),
    "canonical": re.compile(r"\S*"),
    "base64Binary": re.compile(r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+"),
    "decimal": re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
}

STRING_TYPES = frozenset({"string", "code", "id", "markdown", "uri", "url", "canonical", "oid", "uuid", "date",
                          "dateTime", "instant", "time", "base64Binary", "xhtml"})
INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt"})
PRIMITIVE_TYPES = STRING_TYPES | INTEGER_TYPES | {"boolean", "decimal"}

MAX_STRING = 1024 * 1024

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def has_scheme(uri: str) -> bool:
    """Does `uri` start with a scheme (`http:`, `urn:`, RFC 3986), i.e. is it absolute rather than relative?"""
    return ":" in uri and _SCHEME.match(uri) is not None  # no colon, no scheme: settled without the regex


def _real_date(value: str) -> bool:
    if len(value) < 10:
        return True
    try:
        y, m, d = int(value[0:4]), int(value[5:7]), int(value[8:10])
    except ValueError:
        return False
    return 1 <= d <= calendar.monthrange(y, m)[1]


def decode_base64(text: str) -> bytes | None:
    """The bytes of a base64Binary value, white space ignored (FHIR R4 accepts it); None when it is no base64."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def check_primitive(type_code: str, value: Any) -> str | None:
    """None when `value` is a valid JSON representation of the primitive type, else the reason."""
    if type_code in STRING_TYPES:
        if not isinstance(value, str):
            return f"a {type_code} must be a JSON string, found {_json_kind(value)}"
        if value == "":
            return "a primitive value must not be empty (use no property or a data-absent-reason extension)"
        if type_code in ("string", "markdown"):
            if len(value) > MAX_STRING:
                return "string is longer than 1 MB"
            return None
        if type_code == "xhtml":
            return None
        rx = REGEX.get(type_code)
        if rx is not None and rx.fullmatch(value) is None:
            return f"{value!r} is not a valid {type_code}{_HINTS.get(type_code, '')}"
        if type_code in ("date", "dateTime", "instant") and not _real_date(value):
            return f"{value!r} is not a real calendar date"
        if type_code == "base64Binary" and decode_base64(value) is None:
            return f"{value!r} is not valid base64"
        return None
    if type_code == "boolean":
        return None if isinstance(value, bool) else f"a boolean must be JSON true/false, found {_json_kind(value)}"
    if type_code in INTEGER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return f"an {type_code} must be a JSON integer without a fraction, found {value!r}"
            return f"an {type_code} must be a JSON integer, found {_json_kind(value)}"
        if not -2147483648 <= value <= 2147483647:
            return f"{value} is outside the 32-bit integer range"
        if type_code == "positiveInt" and value < 1:
            return f"a positiveInt must be >= 1, found {value}"
        if type_code == "unsignedInt" and value < 0:
            return f"an unsignedInt must be >= 0, found {value}"
        return None
    if type_code == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return f"a decimal must be a JSON number, found {_json_kind(value)}"
        return None
    return None


_HINTS: dict[str, str] = {
    "uri": " (a urn:uuid: needs a valid lower-case UUID -- UUIDs must be valid and lowercase --, a urn:oid: a valid OID)",
    "date": " (expected YYYY, YYYY-MM or YYYY-MM-DD)",
    "dateTime": " (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz; a time needs a time zone)",
    "instant": " (expected YYYY-MM-DDThh:mm:ss(.sss)+zz:zz with a time zone)",
    "time": " (expected hh:mm:ss)",
    "id": " (1-64 characters of A-Z a-z 0-9 - .)",
    "code": " (no leading/trailing or double whitespace)",
    "oid": " (expected urn:oid:1.2.3...)",
    "uuid": " (expected urn:uuid: and a lower-case UUID)",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__


json_kind: Callable[[Any], str] = _json_kind


#: True only when `v` has no white space (str.isspace) at all: every white-space character but ' ' is unprintable, so
#: a printable string without ' ' has none. False says nothing: the regex decides.
_NO_WHITE_SPACE = '(v.isprintable() and " " not in v)'


def _quick_source(type_code: str) -> tuple[str, dict[str, Any]]:
    """The fast predicate of a type as a Python expression in `v`, and the names it uses. `{name}` in the text
    stands for each of those names, so that the generated walkers (`codegen`) can write the test out inline
    under a name of their own; `QUICK_VALID` is the same text made into a function."""
    rx = REGEX.get(type_code)
    string = "type(v) is str and v != ''"
    if type_code in ("string", "markdown"):
        return f"type(v) is str and 0 < len(v) <= {MAX_STRING}", {}
    if type_code == "xhtml":
        return string, {}
    if type_code in ("date", "dateTime", "instant") and rx is not None:
        # after the regex, v[8:10] is the day (01-31): every month has 28 days, only later ones need the calendar
        return (f"{string} and {{rx}}.fullmatch(v) is not None and (len(v) < 10 or v[8:10] <= '28' or "
                "{real_date}(v))"), {"rx": rx, "real_date": _real_date}
    if type_code == "code" and rx is not None:  # [^\s]+( [^\s]+)*: a non-empty string without white space matches
        return f"{string} and ({_NO_WHITE_SPACE} or {{rx}}.fullmatch(v) is not None)", {"rx": rx}
    if type_code == "uri" and rx is not None:  # its first branch: no white space and no urn:uuid: / urn:oid: prefix
        return (f"{string} and (({_NO_WHITE_SPACE} and not v.startswith(('urn:uuid:', 'urn:oid:'))) or "
                "{rx}.fullmatch(v) is not None)"), {"rx": rx}
    if type_code in ("url", "canonical") and rx is not None:  # \S*
        return f"{string} and ({_NO_WHITE_SPACE} or {{rx}}.fullmatch(v) is not None)", {"rx": rx}
    if type_code in STRING_TYPES and type_code != "base64Binary":
        if rx is None:
            return string, {}
        return f"{string} and {{rx}}.fullmatch(v) is not None", {"rx": rx}
    if type_code == "boolean":
        return "type(v) is bool", {}
    if type_code in INTEGER_TYPES:
        low = {"positiveInt": 1, "unsignedInt": 0}.get(type_code, -2147483648)
        return f"type(v) is int and {low} <= v <= 2147483647", {}
    if type_code == "decimal":
        return "type(v) is int or type(v) is float", {}
    return "False", {}  # base64Binary and anything unusual: the full check decides


#: type code -> (expression in `v` with `{name}` placeholders, the objects the names stand for)
QUICK_SOURCE: dict[str, tuple[str, dict[str, Any]]] = {t: _quick_source(t) for t in PRIMITIVE_TYPES}


def _quick(type_code: str) -> Callable[[Any], bool]:
    text, names = QUICK_SOURCE[type_code]
    return eval(f"lambda v: {text.format(**{n: n for n in names})}", dict(names))  # type: ignore[no-any-return]


#: type code -> predicate that is True only where `check_primitive` finds nothing wrong (the walker's fast path;
#: when it says False, `check_primitive` gives the verdict and the message)
QUICK_VALID: dict[str, Callable[[Any], bool]] = {t: _quick(t) for t in PRIMITIVE_TYPES}
