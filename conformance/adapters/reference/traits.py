"""The reference EHR's lookup of a foreign patient by the identity traits of their country.

A mixin of :class:`~conformance.adapters.reference.service.ReferenceEHR`. There is no shared
European electronic identification: a patient from another country is identified by the traits
that country uses (a national identifier with a birth date, a health insurance number with the
names...). The per-country table is configuration (``configure_identity_traits``):
``{country: {trait: identifier system or ""}}``: a trait with a system is an identifier matched
exactly under that system; ``birth_date``, ``family_name`` and ``given_name`` are the Patient's
demographics. Every trait of the country is required; all must match one patient exactly.

Each rule is a small overridable method (``trait_table``, ``candidates``, ``trait_matches``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.adapter import Denied, NotFound, NotSupported, Rejected

if TYPE_CHECKING:  # pragma: no cover
    from conformance.adapters.reference.service import Principal
    from conformance.adapters.reference.store import PatientRow

DEMOGRAPHIC_TRAITS = ("birth_date", "family_name", "given_name")


def _norm(text: str) -> str:
    """Case- and accent-insensitive comparison form of a name (NFKD, marks removed, casefolded)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class TraitLookup:
    """Per-country identity traits and the lookup they drive (needs the ReferenceEHR around it)."""

    store: Any
    _trait_tables: dict[str, dict[str, str]]

    def configure_identity_traits(self, table: Mapping[str, Mapping[str, str]]) -> None:
        """Set the per-country traits: ``{"BE": {"national_id": "<system>", "birth_date": ""}}``."""
        cleaned: dict[str, dict[str, str]] = {}
        for country, traits in table.items():
            if not isinstance(traits, Mapping) or not traits:
                raise Rejected(f"identity traits of {country!r}: expected a table of trait -> identifier system")
            for trait, system in traits.items():
                if not system and trait not in DEMOGRAPHIC_TRAITS:
                    raise Rejected(f"identity trait {trait!r} of {country!r} needs an identifier system "
                                   f"(or is one of {', '.join(DEMOGRAPHIC_TRAITS)})")
            cleaned[str(country).upper()] = {str(t): str(s or "") for t, s in traits.items()}
        self._trait_tables = cleaned

    def trait_table(self, country: str) -> dict[str, str] | None:
        """The traits `country` uses, or None when the country is not configured."""
        return (getattr(self, "_trait_tables", {}) or {}).get(country.upper())

    def candidates(self, system: str, value: str) -> list[str]:
        """Patients holding exactly this identifier (never a partial match): the identifier rule."""
        found = self.store.patient_id_for(system, value)
        return [found] if found else []

    def trait_matches(self, patient: PatientRow, trait: str, system: str, value: str) -> bool:
        """Whether one trait matches the patient exactly (names compared without case and accents)."""
        if trait == "birth_date":
            return patient.birth_date == value.strip()
        if trait in ("family_name", "given_name"):
            held = patient.family if trait == "family_name" else patient.given
            return bool(held) and _norm(held) == _norm(value)
        return (system, value.strip()) in set(patient.identifiers)

    def find_patient_by_traits(self, principal: Principal, country: str, traits: Mapping[str, str]) -> str:
        """The patient identified by the country's traits; NotFound when any is missing or mismatches,
        NotSupported when the country is not configured."""
        if not self.is_permitted(principal, "find-patient", None):  # type: ignore[attr-defined]
            raise Denied(f"a {principal.kind.value} may not look up patients")
        table = self.trait_table(country)
        if table is None:
            raise NotSupported(f"no identity traits configured for country {country!r}")
        given = {k: str(v) for k, v in traits.items() if str(v or "").strip()}
        missing = sorted(set(table) - set(given))
        if missing:
            raise NotFound(f"the identity traits of {country} are incomplete: missing {', '.join(missing)}")
        id_traits = [t for t in table if table[t]]
        if not id_traits:
            raise NotSupported(f"the identity traits of {country} name no identifier")
        first = id_traits[0]
        for pid in self.candidates(table[first], given[first]):
            patient = self.store.patient(pid)
            # the first identifier trait is what `candidates` matched; every other trait must match too
            if patient is not None and all(self.trait_matches(patient, t, table[t], given[t])
                                           for t in table if t != first):
                return patient.id
        raise NotFound(f"no patient of {country} with these identity traits")
