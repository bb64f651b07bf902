"""The per-country identity-trait table (identity_traits.yaml, TEST DATA) and the traits of a
generated foreign patient."""

from __future__ import annotations

import copy
import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml

from conformance.documents import composition, resolve
from conformance.errors import HarnessError

TABLE_FILE = Path(__file__).with_name("identity_traits.yaml")


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TABLE_FILE.read_text(encoding="utf-8")) or {}
    return {str(c): {str(t): str(s or "") for t, s in traits.items()} for c, traits in data["countries"].items()}


def table() -> dict[str, dict[str, str]]:
    """``{country: {trait: identifier system or ""}}`` (a copy)."""
    return copy.deepcopy(_table())


def countries() -> list[str]:
    return sorted(_table())


def identifier_value(patient: Any, country: str, trait: str) -> str:
    """A unique identifier value for this generated patient (derived from its fresh business id)."""
    digest = hashlib.sha256(f"{patient.identifier}|{country}|{trait}".encode()).hexdigest()
    return str(int(digest[:15], 16) % 10**11).zfill(11)


def traits_of(patient: Any, country: str) -> dict[str, str]:
    """The traits of `country` for a generated patient (identifiers as :func:`identifier_value`)."""
    out: dict[str, str] = {}
    for trait, system in _table()[country].items():
        if system:
            out[trait] = identifier_value(patient, country, trait)
        else:
            out[trait] = {"birth_date": patient.birth_date, "family_name": patient.family,
                          "given_name": patient.given}[trait]
    return out


def with_identifiers(bundle: dict[str, Any], patient: Any, country: str) -> dict[str, Any]:
    """The document with the country's identifier traits added to its Patient."""
    out = copy.deepcopy(bundle)
    subject = resolve(out, (composition(out).get("subject") or {}).get("reference", ""))
    if subject is None:
        raise HarnessError("the generated patient summary has no resolvable Composition.subject")
    for trait, system in _table()[country].items():
        if system:
            subject.setdefault("identifier", []).append(
                {"system": system, "value": identifier_value(patient, country, trait)})
    return out
