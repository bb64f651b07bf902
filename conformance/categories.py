"""The EHDS priority categories of personal electronic health data (Art 14(1)): one table.

Every module that needs to know how a priority category is named, typed or
profiled imports it from here: the adapter contract, the document generator,
the access-log reader, the reference EHR, its server and the FHIR REST adapter.
Before this table existed the same facts lived in five modules and disagreed
(the generator typed an imaging report 85430-7, the reference EHR named the
category 18748-4).

For each category:
- ``document_type`` is the LOINC document type the harness *exports* and
  generates (Composition.type / DocumentReference.type / ClinicalDocument.code);
- ``accepted_types`` lists every LOINC document type accepted as that category
  on intake and when reading an access log (the exported one first);
- ``bundle_profile`` is the document Bundle profile the category's documents are
  validated against (IPS for patient summaries; the harness's minimal EHDS
  profiles for the others until the HL7 Europe profiles are pinned).
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
LOINC_OID = "2.16.840.1.113883.6.1"

IPS_BASE = "http://hl7.org/fhir/uv/ips/StructureDefinition"
MINIMAL_BASE = "https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition"


@dataclass(frozen=True)
class PriorityCategory:
    """One priority category and the codes and profile that stand for it."""

    id: str
    title: str
    document_type: str
    document_display: str
    accepted_types: tuple[str, ...]
    bundle_profile: str
    applies_from: str  # date of application of the EEHRxF specification (Art 105)


CATEGORIES: tuple[PriorityCategory, ...] = (
    PriorityCategory("patient-summary", "Patient summary", "60591-5", "Patient summary Document",
                     ("60591-5",), f"{IPS_BASE}/Bundle-uv-ips", "2029-03-26"),
    PriorityCategory("eprescription", "ePrescription", "57833-6", "Prescription for medication",
                     ("57833-6",), f"{MINIMAL_BASE}/Bundle-eprescription-ehds-min", "2029-03-26"),
    PriorityCategory("edispensation", "eDispensation", "60593-1", "Medication dispensed.extended Document",
                     ("60593-1",), f"{MINIMAL_BASE}/Bundle-edispensation-ehds-min", "2029-03-26"),
    PriorityCategory("laboratory", "Laboratory result", "11502-2", "Laboratory report",
                     ("11502-2",), f"{MINIMAL_BASE}/Bundle-laboratory-ehds-min", "2031-03-26"),
    PriorityCategory("imaging", "Medical imaging study and report", "85430-7", "Diagnostic imaging report",
                     ("85430-7", "18748-4"), f"{MINIMAL_BASE}/Bundle-imaging-ehds-min", "2031-03-26"),
    PriorityCategory("discharge", "Hospital discharge report", "34105-7", "Hospital Discharge summary",
                     ("34105-7", "18842-5", "100719-4"), f"{MINIMAL_BASE}/Bundle-discharge-ehds-min",
                     "2031-03-26"),
)

#: The category ids, in the order of Art 14(1).
PRIORITY_CATEGORIES: tuple[str, ...] = tuple(c.id for c in CATEGORIES)

BY_ID: dict[str, PriorityCategory] = {c.id: c for c in CATEGORIES}

#: Every accepted LOINC document type -> its category.
CATEGORY_BY_LOINC: dict[str, str] = {code: c.id for c in CATEGORIES for code in c.accepted_types}

#: The LOINC document type the harness exports for each category.
LOINC_BY_CATEGORY: dict[str, str] = {c.id: c.document_type for c in CATEGORIES}

#: Category -> every accepted LOINC document type (the exported one first).
CATEGORY_LOINC: dict[str, tuple[str, ...]] = {c.id: c.accepted_types for c in CATEGORIES}

#: Category -> (LOINC code, display) of its document type.
CATEGORY_TYPES: dict[str, tuple[str, str]] = {c.id: (c.document_type, c.document_display) for c in CATEGORIES}

#: Category -> the document Bundle profile its documents are validated against.
CATEGORY_PROFILES: dict[str, str] = {c.id: c.bundle_profile for c in CATEGORIES}


def category(identifier: str) -> PriorityCategory:
    """The category named `identifier`; a ValueError with a suggestion otherwise."""
    found = BY_ID.get(identifier)
    if found is None:
        from conformance.suggest import did_you_mean

        close = did_you_mean(identifier, PRIORITY_CATEGORIES)
        hint = f" Did you mean {close!r}?" if close else ""
        raise ValueError(f"unknown priority category {identifier!r}.{hint} Known: {', '.join(PRIORITY_CATEGORIES)}")
    return found


def category_of_type(code: str) -> str:
    """The category of a LOINC document type, '' when it names none."""
    return CATEGORY_BY_LOINC.get(code, "")


__all__ = ["CATEGORIES", "CATEGORY_BY_LOINC", "CATEGORY_LOINC", "CATEGORY_PROFILES", "CATEGORY_TYPES", "LOINC",
           "LOINC_BY_CATEGORY", "LOINC_OID", "PRIORITY_CATEGORIES", "PriorityCategory", "category",
           "category_of_type"]
