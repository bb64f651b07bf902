"""SMART on FHIR scopes: parsing, granting, and deciding whether a scope covers a request.

Both syntaxes are accepted: SMART v2 (``user/DocumentReference.rs``, permissions
c r u d s) and v1 (``user/DocumentReference.read`` = r s, ``.write`` = c u d,
``.*`` = all). The context prefix (``patient/``, ``user/``, ``system/``) says on
whose behalf the client acts; which records that actor may see is the EHR's
access rule, not the scope's, so here only resource type and interaction count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|[cruds]+)(\?.*)?$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class Scope:
    context: str  # patient | user | system
    resource: str  # a resource type or "*"
    permissions: frozenset[str]  # subset of c r u d s

    def covers(self, resource: str, permission: str) -> bool:
        return (self.resource in ("*", resource)) and permission in self.permissions


def parse(scope: str) -> Scope | None:
    """A resource scope, or None for anything else (``openid``, ``fhirUser``, ``launch/patient``...)."""
    match = _SCOPE.match(scope)
    if not match:
        return None
    context, resource, perms, _query = match.groups()
    letters = _V1.get(perms, perms)
    if perms not in _V1 and (len(set(perms)) != len(perms) or perms != "".join(c for c in "cruds" if c in perms)):
        return None  # v2 requires the letters once each, in order c r u d s
    return Scope(context, resource, frozenset(letters))


def split(text: str) -> list[str]:
    return [s for s in (text or "").split() if s]


def grant(requested: str, allowed: list[str]) -> list[str]:
    """The requested scopes the client is allowed, in the requested order.

    A requested resource scope is granted when an allowed scope covers every
    permission of it (so ``user/Patient.r`` is granted under ``user/*.cruds``);
    other scopes (``openid``...) only when allowed literally.
    """
    granted: list[str] = []
    allowed_parsed = [(a, parse(a)) for a in allowed]
    for item in split(requested):
        wanted = parse(item)
        if wanted is None:
            if item in allowed:
                granted.append(item)
            continue
        for _text, have in allowed_parsed:
            if have is None or have.context != wanted.context:
                continue
            if (have.resource == "*" or have.resource == wanted.resource) and wanted.permissions <= have.permissions:
                granted.append(item)
                break
    return list(dict.fromkeys(granted))


def permits(granted: list[str] | str, resource: str, permission: str) -> bool:
    """Does any granted scope cover `permission` (one of c r u d s) on `resource`?"""
    items = split(granted) if isinstance(granted, str) else granted
    return any(s is not None and s.covers(resource, permission) for s in map(parse, items))
