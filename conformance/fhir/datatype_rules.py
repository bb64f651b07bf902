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

def check_identifier(ident: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """An Identifier whose system is `urn:ietf:rfc:3986` says its value is a URI: the value must be one (an OID
    or UUID written without its `urn:oid:` / `urn:uuid:` scheme is the usual mistake)."""
    value = ident.get("value")
    if ident.get("system") == "urn:ietf:rfc:3986" and isinstance(value, str) and value and not has_scheme(value):
        hint = f"write urn:oid:{value}" if re.fullmatch(r"[0-2](\.\d+)+", value) else \
            f"write urn:uuid:{value}" if re.fullmatch(r"[0-9a-fA-F-]{36}", value) else "give a full URI"
        sink.append(issue("error", "invalid", loc, "if identifier.system is 'urn:ietf:rfc:3986', then the "
                          f"identifier.value must be a full URI (e.g. start with a scheme), not {value!r} (hint: "
                          f"{hint})", "identifier.ietf-uri"))
