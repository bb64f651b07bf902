"""Valid EEHRxF FHIR documents for the six EHDS priority categories, built from data, not fixtures.

Why this module exists: every check needs documents a conformant SUT must accept, for a
fresh patient, and the same inputs again when the run is repeated with the same seed.
One set of builders serves two drivers:

* :func:`valid_document` (seeded ``random.Random``): quick, deterministic documents for
  checks that need "a valid summary for this patient" (the plugin's ``documents`` fixture);
* :mod:`conformance.strategies` (hypothesis ``draw``): the same builders under hypothesis,
  so failing examples shrink towards the simplest document.

The builders only make choices through a :class:`Chooser`, so both drivers produce the
same shapes. Everything returned is plain JSON-safe ``dict``/``list`` data (usable as
evidence and as a minimal reproducer).

Profiles: the patient summary is an IPS 2.0.0 document (Bundle-uv-ips). The five other
categories follow the minimal stand-in profiles of ``profiles/packages/ehds-minimal``
(written from the HL7 Europe MPD / Laboratory / Imaging / HDR requirements); a user can
swap in the official HL7 Europe packages.

Layout: one module per priority category (``patient_summary``, ``eprescription``,
``edispensation``, ``laboratory``, ``imaging``, ``discharge``) over shared builders
(``identity``: who a document is about; ``frame``: choices, ids, the document frame and its
Composition; ``common``: code systems, FHIR datatype helpers, code tables; ``reading``:
resources / composition / resolve / rekey / for_patient / profile_for). Everything is
re-exported here: import from ``conformance.documents``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from conformance.categories import PRIORITY_CATEGORIES
from conformance.documents import discharge, edispensation, eprescription, imaging, laboratory, patient_summary
from conformance.documents.common import (
    ALLERGENS,
    ATC,
    CATEGORY_PROFILES,
    CATEGORY_TYPES,
    DEVICES,
    DICOM_DCM,
    DICOM_UID_SYSTEM,
    DISPENSE_ID_SYSTEM,
    EDQM,
    ENCOUNTER_ID_SYSTEM,
    HOSPITAL_COURSES,
    IMAGING_CONCLUSIONS,
    IMAGING_PROCEDURES,
    IPS_BASE,
    LAB_TESTS,
    LOINC,
    MEDICINES,
    MINIMAL_BASE,
    MODALITIES,
    ORDER_ID_SYSTEM,
    ORGANISATION_ID_SYSTEM,
    ORGANISATIONS,
    PATIENT_ID_SYSTEM,
    PRACTITIONER_ID_SYSTEM,
    PRACTITIONERS,
    PRESCRIPTION_ID_SYSTEM,
    PROBLEMS,
    PROCEDURES,
    REACTIONS,
    RFC3986,
    SNOMED,
    UCUM,
    coding,
    concept,
    identifier,
    narrative,
    ref,
    table_narrative,
)
from conformance.documents.frame import Chooser, Frame, RandomChooser, check_category, start_document, summary_text
from conformance.documents.identity import _FAMILIES as _FAMILIES  # conformance.strategies draws names from these
from conformance.documents.identity import _GENDERS as _GENDERS
from conformance.documents.identity import _GIVENS as _GIVENS
from conformance.documents.identity import PatientIdentity, new_patient_identity
from conformance.documents.patient_summary import PS_SECTIONS
from conformance.documents.reading import (
    PROFILE_ENV_PREFIX,
    composition,
    content_digest,
    for_patient,
    profile_for,
    rekey,
    resolve,
    resources,
)
from conformance.errors import UsageError

#: The builders that need nothing but the frame (patient summary and eDispensation take options).
_BUILDERS: dict[str, Callable[[Frame], dict[str, Any]]] = {
    "eprescription": eprescription.build,
    "laboratory": laboratory.build,
    "imaging": imaging.build,
    "discharge": discharge.build,
}
assert set(_BUILDERS) | {"patient-summary", "edispensation"} == set(PRIORITY_CATEGORIES), (
    "every priority category of conformance/categories.py needs a document builder")

#: Kept under its former name: conformance.strategies imports it.
_check_category = check_category


def build_document(category: str, patient: PatientIdentity, chooser: Chooser, *, namespace: str = "",
                   prescription: dict[str, Any] | None = None,
                   ps_counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Build one valid document of ``category`` for ``patient``, making choices with ``chooser``.

    ``namespace`` makes resource ids unique (same patient + category + namespace -> same ids).
    ``prescription`` (edispensation only): the ePrescription Bundle to dispense against.
    ``ps_counts`` (patient-summary only): entries per section, e.g. ``{"allergies": 0}`` forces
    an explicitly empty allergies section.
    """
    check_category(category)
    frame = start_document(category, patient, chooser, namespace)
    if category == "patient-summary":
        return patient_summary.build(frame, ps_counts)
    if category == "edispensation":
        return edispensation.build(frame, prescription)
    return _BUILDERS[category](frame)


def valid_document(category: str, patient: PatientIdentity, *, seed: int = 0,
                   prescription: dict[str, Any] | None = None,
                   ps_counts: dict[str, int] | None = None, variation: str | None = None) -> dict[str, Any]:
    """A valid document Bundle of ``category`` for ``patient``; the same arguments give the same
    document. Different seeds vary content (codes, counts, empty sections, dates).

    The content is drawn from (category, seed, ``variation``); ``variation`` defaults to the patient's
    identifier. A stateful check passes its own label for the patient instead: hypothesis replays a
    failing sequence with fresh patients (the SUT keeps the first attempt's), and the replayed documents
    must carry the same dates and codes, or the failure moves and hypothesis reports its data generation
    as flaky instead of the SUT's failure."""
    if not isinstance(patient, PatientIdentity):
        raise UsageError(f"valid_document() needs a PatientIdentity, got {type(patient).__name__}; "
                         "make one with conformance.documents.new_patient_identity()")
    key = patient.identifier if variation is None else variation
    chooser = RandomChooser(random.Random(f"{category}/{seed}/{key}"))
    return build_document(category, patient, chooser, namespace=f"seed{seed}", prescription=prescription,
                          ps_counts=ps_counts)


__all__ = [
    "ALLERGENS", "ATC", "CATEGORY_PROFILES", "CATEGORY_TYPES", "DEVICES", "DICOM_DCM", "DICOM_UID_SYSTEM",
    "DISPENSE_ID_SYSTEM", "EDQM", "ENCOUNTER_ID_SYSTEM", "HOSPITAL_COURSES", "IMAGING_CONCLUSIONS",
    "IMAGING_PROCEDURES", "IPS_BASE", "LAB_TESTS", "LOINC", "MEDICINES", "MINIMAL_BASE", "MODALITIES",
    "ORDER_ID_SYSTEM", "ORGANISATIONS", "ORGANISATION_ID_SYSTEM", "PATIENT_ID_SYSTEM", "PRACTITIONERS",
    "PRACTITIONER_ID_SYSTEM", "PRESCRIPTION_ID_SYSTEM", "PROBLEMS", "PROCEDURES", "PROFILE_ENV_PREFIX",
    "PS_SECTIONS", "REACTIONS", "RFC3986", "SNOMED", "UCUM", "Chooser", "PatientIdentity", "RandomChooser",
    "build_document", "coding", "composition", "concept", "content_digest", "for_patient", "identifier",
    "narrative", "new_patient_identity", "profile_for", "ref", "rekey", "resolve", "resources", "summary_text",
    "table_narrative", "valid_document",
]
