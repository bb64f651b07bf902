"""The test translation catalogue (catalogue/*.json, TEST DATA) and the coded items of a summary.

``resources()`` returns the ValueSets to load into the SUT; ``french(system, code)`` the French
designation the catalogue gives (None when it has none); ``coded_items(bundle)`` the codings a
professional must be shown for a received summary (the oracle of FR-004).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "catalogue"
LANGUAGE = "fr-FR"
#: Resources that frame a summary rather than carry its clinical content.
FRAMING = frozenset({"Composition", "Patient", "Organization", "Practitioner", "PractitionerRole", "Bundle"})


@functools.cache
def _load() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(p.read_text(encoding="utf-8")) for p in sorted(HERE.glob("*.json")))


def resources() -> list[dict[str, Any]]:
    """The catalogue's FHIR resources (copies: the caller may hand them to a SUT)."""
    return copy.deepcopy(list(_load()))


@functools.cache
def _table() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for vs in _load():
        for include in (vs.get("compose") or {}).get("include") or []:
            for concept in include.get("concept") or []:
                for d in concept.get("designation") or []:
                    if d.get("language") == LANGUAGE:
                        out[(include["system"], concept["code"])] = d["value"]
    return out


def french(system: str, code: str) -> str | None:
    """The catalogue's French designation of a code, or None."""
    return _table().get((system, code))


#: A code system no catalogue translates: the sender's own local codes.
LOCAL_SYSTEM = "https://ehds-conformance.invalid/CodeSystem/sender-local-codes"


def with_local_coding(bundle: dict[str, Any], code: str, display: str) -> dict[str, Any]:
    """A copy of the summary with a sender-local coding (absent from any catalogue) added beside the first
    clinical coding: the professional must still see it. A summary whose sections are all empty is returned as is."""
    out = copy.deepcopy(bundle)
    for entry in out.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") in FRAMING:
            continue
        for key in ("code", "medicationCodeableConcept", "type"):
            if isinstance(resource.get(key), dict) and isinstance(resource[key].get("coding"), list):
                resource[key]["coding"].append({"system": LOCAL_SYSTEM, "code": code, "display": display})
                return out
    return out


def coded_items(bundle: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(system, code, original display or concept text) of every coding in the clinical resources."""
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") in FRAMING:
            continue
        yield from _walk(resource)


def _walk(node: Any) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, dict):
        codings = node.get("coding")
        if isinstance(codings, list):
            for c in codings:
                if isinstance(c, dict) and c.get("code"):
                    yield str(c.get("system", "")), str(c["code"]), str(c.get("display") or node.get("text") or "")
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
