"""What a document *means*, so that a round trip can be compared semantically (EHDS-INT-008).

Why: a SUT may re-serialise a document (new ids, other key order, ``13.0`` as ``13``, a date
time in another offset, regenerated ``meta``) without changing its meaning, but it must not
lose or alter codes, dates, quantities, identifiers, references or narrative. Each resource is
reduced to a set of *facts* that are independent of resource ids: a reference becomes the
identity of what it points at (type + business identifiers, or type + code). The exported
document keeps the meaning when every input resource's facts appear in one distinct exported
resource of the same type (the export may add facts, e.g. provenance).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: Keys that carry no clinical meaning (ids, bookkeeping, generated narrative of single resources).
IGNORED_KEYS = frozenset({"id", "meta", "fullUrl", "text", "implicitRules", "language"})
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")

Fact = tuple[str, str]  # (path without indices, normalised value)


def _norm_scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)
    text = str(value)
    if _DATETIME.match(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC).isoformat()
        except ValueError:
            return text
    if key == "div":
        return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    return text


def narrative_text(div: str) -> str:
    """The text of an XHTML narrative, whitespace-normalised (markup does not carry meaning here)."""
    return _norm_scalar("div", div)


@dataclass(frozen=True)
class ResourceMeaning:
    resource_type: str
    facts: frozenset[Fact]
    label: str  # what a report calls it (type + first code / identifier)


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _identity(resource: dict[str, Any]) -> str:
    """An id-free name of a resource, for references: its type plus business identifiers or code."""
    rtype = resource.get("resourceType", "?")
    idents = sorted(f"{i.get('system', '')}|{i.get('value', '')}" for i in _as_list(resource.get("identifier"))
                    if isinstance(i, dict))
    if idents:
        return f"{rtype}[{';'.join(idents)}]"
    for key in ("code", "vaccineCode", "type", "medicationCodeableConcept"):
        codes = _codes(resource.get(key))
        if codes:
            return f"{rtype}({';'.join(codes)})"
    if rtype == "Organization" and resource.get("name"):
        return f"{rtype}({resource['name']})"
    names = [n for n in _as_list(resource.get("name")) if isinstance(n, dict)]
    if names:
        return f"{rtype}({names[0].get('family', '')},{' '.join(names[0].get('given', []))})"
    return rtype


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else ([] if value is None else [value])


def _codes(value: Any) -> list[str]:
    out = []
    for v in _as_list(value):
        if isinstance(v, dict):
            for c in _as_list(v.get("coding")) or [v]:
                if isinstance(c, dict) and c.get("code"):
                    out.append(f"{c.get('system', '')}|{c['code']}")
    return sorted(out)


class _Resolver:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        for entry in _entries(bundle):
            res = entry["resource"]
            if entry.get("fullUrl"):
                self.by_key[entry["fullUrl"]] = res
            if res.get("id"):
                self.by_key[f"{res.get('resourceType')}/{res['id']}"] = res

    def name(self, reference: str) -> str:
        target = self.by_key.get(reference)
        if target is None:
            tail = "/".join(reference.rstrip("/").split("/")[-2:])
            target = self.by_key.get(tail)
        return _identity(target) if target is not None else f"unresolved:{reference}"


def _facts(node: Any, path: str, resolver: _Resolver) -> Iterator[Fact]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "id" or (key in IGNORED_KEYS and not path):
                continue
            if key == "reference" and isinstance(value, str):
                yield f"{path}.reference", resolver.name(value)
                continue
            yield from _facts(value, f"{path}.{key}" if path else key, resolver)
    elif isinstance(node, list):
        for value in node:
            yield from _facts(value, path, resolver)
    elif node is not None:
        yield path, _norm_scalar(path.rsplit(".", 1)[-1], node)


def meaning(bundle: dict[str, Any]) -> list[ResourceMeaning]:
    """The meaning of a document Bundle: one fact set per entry (Composition sections keep their
    narrative as text)."""
    resolver = _Resolver(bundle)
    out = []
    for entry in _entries(bundle):
        res = entry["resource"]
        facts = frozenset(_facts(res, "", resolver))
        out.append(ResourceMeaning(res.get("resourceType", "?"), facts, _identity(res)))
    return out


@dataclass(frozen=True)
class Loss:
    """An input resource whose meaning the export does not carry: the facts that are missing."""

    resource: str
    missing: tuple[Fact, ...]

    def describe(self, limit: int = 5) -> str:
        shown = ", ".join(f"{p}={v!r}" for p, v in self.missing[:limit])
        more = f" (+{len(self.missing) - limit} more)" if len(self.missing) > limit else ""
        return f"{self.resource}: {shown}{more}"


def lost_meaning(sent: dict[str, Any], received: dict[str, Any]) -> list[Loss]:
    """What of `sent` is not in `received`: [] when every sent resource's facts appear in one
    distinct received resource of the same type (best match reported when none does)."""
    available = list(meaning(received))
    losses: list[Loss] = []
    for item in sorted(meaning(sent), key=lambda m: -len(m.facts)):
        same_type = [(i, r) for i, r in enumerate(available) if r.resource_type == item.resource_type]
        exact = next((i for i, r in same_type if item.facts <= r.facts), None)
        if exact is not None:
            available.pop(exact)
            continue
        if same_type:
            best_i, best = max(same_type, key=lambda ir: len(item.facts & ir[1].facts))
            missing = tuple(sorted(item.facts - best.facts))
            available.pop(best_i)
        else:
            missing = tuple(sorted(item.facts))
        losses.append(Loss(item.label, missing))
    return losses
