"""Rules of data types that no invariant states but the reference validator checks on every value of the type
(its type-specific checks), kept apart from the walk that calls them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.fhir.primitives import has_scheme
from conformance.fhir.values import issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.issues import ValidationIssue

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
RFC_4122 = "https://tools.ietf.org/html/rfc4122"


def check_identifier(ident: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """An Identifier's system is an absolute URI (a namespace, not a local label such as `MRN`). One whose system is
    `urn:ietf:rfc:3986` says its value is a URI: the value must be one (an OID or UUID written without its
    `urn:oid:` / `urn:uuid:` scheme is the usual mistake). The RFC 4122 page is no system for UUIDs: the
    reference validator warns on a UUID there and refuses anything else."""
    value, system = ident.get("value"), ident.get("system")
    if isinstance(system, str) and system and not has_scheme(system) and not system.startswith("#"):
        sink.append(issue("error", "invalid", loc, "Identifier.system must be an absolute reference, not a "
                          f"local reference ({system!r}; hint: the system is the URI of the namespace the value "
                          "comes from, such as urn:oid:... or https://...)", "identifier.system-absolute"))
    if system == RFC_4122 and isinstance(value, str) and value:
        uuid = value.removeprefix("urn:uuid:")
        good = _UUID.fullmatch(uuid) is not None
        sink.append(issue("warning" if good else "error", "invalid", loc, f"The identifier system {RFC_4122} is not "
                          f"for the value {value!r} (hint: " + ("a UUID as an identifier has the system "
                          f"urn:ietf:rfc:3986 and the value urn:uuid:{uuid})" if good else "it names no namespace; "
                          "use the system that issued the value)"), "identifier.rfc4122"))
    if system == "urn:ietf:rfc:3986" and isinstance(value, str) and value and not has_scheme(value):
        hint = f"write urn:oid:{value}" if re.fullmatch(r"[0-2](\.\d+)+", value) else \
            f"write urn:uuid:{value}" if re.fullmatch(r"[0-9a-fA-F-]{36}", value) else "give a full URI"
        sink.append(issue("error", "invalid", loc, "if identifier.system is 'urn:ietf:rfc:3986', then the "
                          f"identifier.value must be a full URI (e.g. start with a scheme), not {value!r} (hint: "
                          f"{hint})", "identifier.ietf-uri"))


def without_value(ext: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> dict[str, Any]:
    """A primitive's JSON `_x` object carries its id and extensions; its value is `x` itself. A `value` property
    in `_x` is an error (the reference validator's "The property 'value' is invalid"); the rest is walked."""
    if "value" not in ext:
        return ext
    sink.append(issue("error", "structure", loc, "The property 'value' is invalid (hint: a primitive's value is the "
                      "property itself; its _ object holds only id and extension)", "structure.json-primitive-value"))
    return {k: v for k, v in ext.items() if k != "value"}
