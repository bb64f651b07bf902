"""Is a `urn:ietf:bcp:13` code a media type? Checked by grammar, as the HL7 terminology server (tx.fhir.org)
checks it: `type/subtype`, each an RFC 2045 token (no white space, no separators), optionally followed by
`;` parameters (`text/plain; charset=UTF-8`). The IANA registry is open-ended (`application/x-...`, vendor
trees), so a well-formed media type is never called unknown; `pdf`, `ASCII Text` or `application/` is.
"""

from __future__ import annotations

import re

SYSTEM = "urn:ietf:bcp:13"
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")


def media_type_problem(code: str) -> str | None:
    """What makes `code` no media type, or None."""
    essence = code.split(";", 1)[0].strip()
    if _MEDIA_TYPE.fullmatch(essence):
        return None
    if "/" not in essence:
        return f"a media type is type/subtype (application/pdf, text/plain), and '{essence}' has no '/'"
    return f"a media type is type/subtype, each a token without spaces or separators, and '{essence}' is not"
